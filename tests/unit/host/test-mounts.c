/* SPDX-License-Identifier: Apache-2.0 */
/* The mounts below a directory, from a mountinfo text (firstboot/host/mounts.h). */
#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "firstboot/host/mounts.h"
#include "tests/unit/unit.h"

static const char mountinfo[] =
        "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
        "30 22 0:25 / /var/lib/kubelet rw - ext4 /dev/sdb1 rw\n"
        "31 30 0:26 / /var/lib/kubelet/pods/a/volumes/kubernetes.io~projected/kube-api-access-x rw - tmpfs tmpfs rw\n"
        "32 30 0:27 / /var/lib/kubelet/pods/b/volumes/kubernetes.io~csi/pvc\\040one/mount rw - nfs srv:/x rw\n"
        "33 22 0:28 / /var/lib/kubelet-other/x rw - tmpfs tmpfs rw\n"
        "34 30 0:29 / /var/lib/kubelet/pods rw - tmpfs tmpfs rw\n";

static void test_below_deepest_first(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        (void) state;

        assert_int_equal(fb_mounts_below(mountinfo, "/var/lib/kubelet/", &l), 0);
        assert_int_equal(strv_length(l), 3);
        /* Deepest (longest) first; the directory itself and its look-alike sibling are not below it. */
        assert_string_equal(l[0],
                            "/var/lib/kubelet/pods/a/volumes/kubernetes.io~projected/kube-api-access-x");
        assert_string_equal(l[1], "/var/lib/kubelet/pods/b/volumes/kubernetes.io~csi/pvc one/mount");
        assert_string_equal(l[2], "/var/lib/kubelet/pods");
}

static void test_none(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        (void) state;

        assert_int_equal(fb_mounts_below(mountinfo, "/srv", &l), 0);
        assert_non_null(l);
        assert_null(l[0]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_below_deepest_first),
                cmocka_unit_test(test_none),
        };
        return cmocka_run_group_tests_name("mounts", tests, NULL, NULL);
}
