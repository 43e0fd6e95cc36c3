/* SPDX-License-Identifier: Apache-2.0 */
/* Write sets (common/fileio.h): files written all or nothing. */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

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

/* How many entries a directory under root holds (temporaries included); -1 when it is not there. */
static int entries(const char *root, const char *dir) {
        _cleanup_free_ char *full = strdupf("%s%s", root, dir);
        DIR *d = opendir(full);
        struct dirent *de;
        int n = 0;
        if (!d)
                return -1;
        while ((de = readdir(d)))
                n += de->d_name[0] != '.' || (de->d_name[1] && de->d_name[1] != '.');
        closedir(d);
        return n;
}

static char *content(const char *root, const char *path) {
        char *s = NULL;
        return read_file(root, path, 0, &s, NULL) >= 0 ? s : NULL;
}

static void test_commit_puts_every_file_in_place(void **state) {
        const char *root = *state;
        _cleanup_(write_set_freep) struct write_set *s = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL, *full = NULL;
        struct stat st;

        assert_int_equal(write_set_new(root, &s), 0);
        assert_int_equal(write_set_add(s, "/etc/k/a.key", "secret", 6, 0600), 0);
        assert_int_equal(write_set_add(s, "/etc/k/sub/b.crt", "public", 6, 0644), 0);
        /* Staged, not in place: only temporaries. */
        assert_int_equal(path_exists(root, "/etc/k/a.key"), -ENOENT);
        assert_int_equal(write_set_size(s), 2);
        assert_int_equal(write_set_commit(s), 0);
        a = content(root, "/etc/k/a.key");
        b = content(root, "/etc/k/sub/b.crt");
        assert_string_equal(a, "secret");
        assert_string_equal(b, "public");
        full = strdupf("%s/etc/k/a.key", root);
        assert_int_equal(stat(full, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(entries(root, "/etc/k"), 2); /* a.key and sub/, no temporary left */
        s = write_set_free(s);
        free(b);
        b = content(root, "/etc/k/sub/b.crt"); /* freeing a committed set keeps its files */
        assert_string_equal(b, "public");
}

static void test_failure_leaves_nothing_and_names_the_file(void **state) {
        const char *root = *state;
        _cleanup_(write_set_freep) struct write_set *s = NULL;

        assert_int_equal(mkdir_p(root, "/etc/k", 0755), 0);
        assert_int_equal(write_string_atomic(root, "/etc/k/etcd", "a file in the way", 0644, 0), 0);
        assert_int_equal(write_set_new(root, &s), 0);
        assert_int_equal(write_set_add(s, "/etc/k/ca.crt", "x", 1, 0644), 0);
        assert_int_equal(write_set_add(s, "/etc/k/new/dir/f", "y", 1, 0644), 0);
        assert_int_equal(write_set_add(s, "/etc/k/etcd/ca.crt", "z", 1, 0644), -ENOTDIR);
        assert_string_equal(write_set_failed_path(s), "/etc/k/etcd/ca.crt");
        s = write_set_free(s);
        /* Nothing of the set is left: no file, no temporary, no directory it made. */
        assert_int_equal(entries(root, "/etc/k"), 1);
        assert_int_equal(path_exists(root, "/etc/k/ca.crt"), -ENOENT);
        assert_int_equal(path_exists(root, "/etc/k/new"), -ENOENT);
}

static void test_failed_commit_puts_replaced_files_back(void **state) {
        const char *root = *state;
        _cleanup_(write_set_freep) struct write_set *s = NULL;
        _cleanup_free_ char *old = NULL, *dir = strdupf("%s/etc/k/d", root),
                            *d2 = strdupf("%s/etc/k/d2", root);

        assert_int_equal(write_string_atomic(root, "/etc/k/a", "old", 0644, WRITE_MKDIR_PARENTS), 0);
        assert_int_equal(mkdir_p(root, "/etc/k/d", 0755), 0);
        assert_int_equal(write_set_new(root, &s), 0);
        assert_int_equal(write_set_add(s, "/etc/k/a", "new", 3, 0644), 0);
        assert_int_equal(write_set_add(s, "/etc/k/b", "new", 3, 0644), 0);
        /* A directory where the last file goes: its rename fails at commit, after the others. */
        assert_int_equal(write_set_add(s, "/etc/k/d2", "new", 3, 0644), 0);
        assert_int_equal(rename(dir, d2), 0);
        assert_int_equal(write_string_atomic(root, "/etc/k/d2/inside", "keep", 0644, 0), 0);
        assert_true(write_set_commit(s) < 0);
        assert_string_equal(write_set_failed_path(s), "/etc/k/d2");
        old = content(root, "/etc/k/a");
        assert_string_equal(old, "old");
        assert_int_equal(path_exists(root, "/etc/k/b"), -ENOENT);
        s = write_set_free(s);
        assert_int_equal(entries(root, "/etc/k"), 2); /* a and d2/, no temporary or backup */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_commit_puts_every_file_in_place, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_leaves_nothing_and_names_the_file, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_failed_commit_puts_replaced_files_back, setup,
                                                teardown),
        };
        return cmocka_run_group_tests_name("writeset", tests, NULL, NULL);
}
