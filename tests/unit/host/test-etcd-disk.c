/* SPDX-License-Identifier: Apache-2.0 */
/* etcd's data disk: spec checks, unit names and texts, mountinfo, and probing image files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/strutil.h"
#include "firstboot/config/config.h"
#include "firstboot/host/etcd-disk.h"
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

static void test_spec_problem(void **state) {
        struct fb_etcd_disk_spec s = {.device = "/dev/vdb"};
        (void) state;

        assert_null(fb_etcd_disk_spec_problem(&s));
        s.label = "0123456789abcdef"; /* 16: the most ext4 takes */
        assert_null(fb_etcd_disk_spec_problem(&s));
        s.label = "0123456789abcdefg";
        assert_non_null(strstr(fb_etcd_disk_spec_problem(&s), "1-16"));
        s.fstype = "xfs";
        s.label = "0123456789ab"; /* 12: the most xfs takes */
        assert_null(fb_etcd_disk_spec_problem(&s));
        s.label = "0123456789abc";
        assert_non_null(strstr(fb_etcd_disk_spec_problem(&s), "1-12"));
        s.label = "etcd data";
        assert_non_null(fb_etcd_disk_spec_problem(&s));
        s.label = NULL;
        s.fstype = "btrfs";
        assert_non_null(strstr(fb_etcd_disk_spec_problem(&s), "ext4 or xfs"));
        s.fstype = NULL;
        s.device = "sdb";
        assert_non_null(strstr(fb_etcd_disk_spec_problem(&s), "etcd.dataDevice"));
        s.device = "LABEL=etcd";
        s.data_dir = "/var/lib/etcd data";
        assert_non_null(fb_etcd_disk_spec_problem(&s));
        s.data_dir = "/";
        assert_non_null(fb_etcd_disk_spec_problem(&s));
        s.data_dir = "/var/lib/../etcd";
        assert_non_null(fb_etcd_disk_spec_problem(&s));
        s.data_dir = "/var/lib/etcd-2";
        assert_null(fb_etcd_disk_spec_problem(&s));
}

static void test_unit_names(void **state) {
        /* Checked against systemd-escape --path --suffix=mount. */
        static const struct {
                const char *path, *name;
        } cases[] = {
                {"/var/lib/etcd", "var-lib-etcd.mount"},
                {"/var/lib/etcd-data", "var-lib-etcd\\x2ddata.mount"},
                {"/", "-.mount"},
                {"/srv//etcd/", "srv-etcd.mount"},
                {"/var/.hidden", "var-.hidden.mount"},
                {"/.x", "\\x2ex.mount"},
                {"/a b", "a\\x20b.mount"},
                {"/var/lib/etcd@2", "var-lib-etcd\\x402.mount"},
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *n = fb_unit_name_from_path(cases[i].path, ".mount");
                assert_string_equal(n, cases[i].name);
        }
}

static void test_unit_texts(void **state) {
        _cleanup_free_ char *u =
                fb_etcd_disk_mount_unit("/var/lib/etcd", "f6af0c40-ac23-41e9-ac3d-a22809cb49b7", "ext4");
        _cleanup_free_ char *d = fb_etcd_disk_dropin("/var/lib/etcd");
        (void) state;

        assert_non_null(strstr(u, "\n[Mount]\nWhat=/dev/disk/by-uuid/f6af0c40-ac23-41e9-ac3d-a22809cb49b7\n"
                                  "Where=/var/lib/etcd\nType=ext4\nOptions=noatime\n"));
        assert_non_null(strstr(u, "\nBefore=kubelet.service\n"));
        assert_non_null(strstr(d, "\n[Unit]\nRequiresMountsFor=/var/lib/etcd\n"));
        /* Comments only start lines: a systemd parser sees nothing else. */
        for (const char *p = u; *p; p = strchr(p, '\n') + 1)
                assert_true(*p == '#' || *p == '[' || *p == '\n' ||
                            (strchr(p, '=') && strchr(p, '=') < strchr(p, '\n')));
}

static const char mountinfo[] =
        "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
        "25 22 0:23 / /proc rw,nosuid - proc proc rw\n"
        "40 22 7:3 / /tmp/kf\\040x/var/lib/etcd rw,noatime shared:30 - ext4 /dev/loop3 rw\n"
        "41 40 0:45 / /tmp/kf\\040x/var/lib/etcd rw shared:31 master:2 - tmpfs tmpfs rw\n"
        "42 22 7:4 /sub /mnt/other rw - xfs /dev/loop4 rw\n"
        "garbage line\n";

static void test_mountinfo(void **state) {
        unsigned maj = 0, min = 0;
        _cleanup_free_ char *type = NULL, *point = NULL, *point2 = NULL;
        (void) state;

        /* The topmost mount at a point wins; \040 is a space. */
        assert_int_equal(fb_mountinfo_at(mountinfo, "/tmp/kf x/var/lib/etcd", &maj, &min, &type), 0);
        assert_int_equal(maj, 0);
        assert_int_equal(min, 45);
        assert_string_equal(type, "tmpfs");
        assert_int_equal(fb_mountinfo_at(mountinfo, "/mnt/other", &maj, &min, NULL), 0);
        assert_int_equal(maj, 7);
        assert_int_equal(min, 4);
        maj = 99;
        assert_int_equal(fb_mountinfo_at(mountinfo, "/var/lib/etcd", &maj, &min, NULL), -ENOENT);
        assert_int_equal(maj, 99);
        assert_int_equal(fb_mountinfo_at("", "/", &maj, &min, NULL), -ENOENT);

        assert_int_equal(fb_mountinfo_of_device(mountinfo, 7, 3, &point), 0);
        assert_string_equal(point, "/tmp/kf x/var/lib/etcd");
        assert_int_equal(fb_mountinfo_of_device(mountinfo, 252, 1, &point2), 0);
        assert_string_equal(point2, "/");
        assert_int_equal(fb_mountinfo_of_device(mountinfo, 8, 0, &point), -ENOENT);
}

static void test_config_schema(void **state) {
        (void) state;
        static const struct {
                const char *json;
                const char *problem; /* NULL: valid */
        } cases[] = {
                {"{\"dataDevice\": \"/dev/nvme1n1\"}", NULL},
                {"{\"dataDevice\": \"LABEL=etcd\", \"filesystem\": \"xfs\", \"label\": \"etcd\"}", NULL},
                {"{\"dataDevice\": \"PARTUUID=0a-01\"}", NULL},
                {"{\"dataDevice\": \"nvme1n1\"}",
                 "FirstbootConfiguration.etcd.dataDevice: 'nvme1n1' is not a /dev path"},
                {"{\"dataDevice\": \"LABEL=\"}", "FirstbootConfiguration.etcd.dataDevice"},
                {"{\"filesystem\": \"btrfs\"}",
                 "FirstbootConfiguration.etcd.filesystem: 'btrfs' is not one of: ext4, xfs"},
                {"{\"size\": 10}", "FirstbootConfiguration.etcd.size: unknown field"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text =
                        strdupf("{\"apiVersion\": \"kube-firstboot.io/v1alpha1\", \"kind\": "
                                "\"FirstbootConfiguration\", \"etcd\": %s}",
                                cases[i].json);
                _cleanup_(cJSON_Deletep) cJSON *doc = cJSON_Parse(text);
                _cleanup_strv_free_ char **problems = NULL;
                assert_non_null(doc);
                assert_int_equal(fb_config_validate_document(doc, "test", &problems), 0);
                if (!cases[i].problem) {
                        if (problems)
                                fail_msg("%s: %s", cases[i].json, problems[0]);
                        continue;
                }
                assert_int_equal(strv_length(problems), 1);
                if (!strstr(problems[0], cases[i].problem))
                        fail_msg("%s: got '%s'", cases[i].json, problems[0]);
        }
}

/* A file of size bytes, optionally with an MBR partition table of one Linux partition. */
static char *image(const char *dir, const char *name, off_t size, bool mbr) {
        char *p = strdupf("%s/%s", dir, name);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, size), 0);
        if (mbr) {
                uint8_t sector[512] = {};
                uint8_t *e = sector + 446;
                e[4] = 0x83;                /* Linux */
                e[8] = 0x00, e[9] = 0x08;   /* first LBA 2048 */
                e[12] = 0x00, e[13] = 0x78; /* 30720 sectors */
                sector[510] = 0x55, sector[511] = 0xaa;
                assert_int_equal(pwrite(fd, sector, sizeof(sector), 0), (ssize_t) sizeof(sector));
        }
        return p;
}

static char *describe(const struct fb_etcd_disk_spec *s) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        fb_etcd_disk_describe(s, f);
        fclose(f);
        print_message("%s", buf);
        return buf;
}

static void test_describe_and_refuse_on_images(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *root = strdupf("%s/root", dir), *blank = NULL, *mbr = NULL, *d1 = NULL,
                            *d2 = NULL, *d3 = NULL, *d4 = NULL;
        struct fb_etcd_disk_spec s = {.root = root, .device = "/dev/etcd", .label = "etcd-test"};
        struct fb_etcd_disk_result res = {.formatted = true};
        struct error why = {};

        assert_int_equal(mkdir_p(root, "/dev", 0755), 0);
        blank = image(dir, "blank.img", 64 << 20, false);
        mbr = image(dir, "mbr.img", 64 << 20, true);

        /* Image files can be probed (plan), never mounted: prepare wants a block device. */
        _cleanup_free_ char *link = strdupf("%s/dev/etcd", root);
        assert_int_equal(symlink(blank, link), 0);
        d1 = describe(&s);
        assert_non_null(strstr(d1, "is blank: would make an ext4 file system labelled 'etcd-test'"));
        assert_non_null(strstr(d1, "would write /etc/systemd/system/var-lib-etcd.mount"));
        assert_int_equal(fb_etcd_disk_prepare(&s, &res, &why), -ENOTBLK);
        assert_non_null(strstr(why.message, "is not a block device"));
        assert_true(res.formatted); /* untouched */
        assert_int_equal(fb_etcd_disk_check(&s), -ENOTBLK);

        assert_int_equal(unlink(link), 0);
        assert_int_equal(symlink(mbr, link), 0);
        d2 = describe(&s);
        assert_non_null(strstr(d2, "would fail:"));
        assert_non_null(strstr(d2, "holds a partition table (dos)"));

        /* An ext4 made elsewhere is used as it is, whatever the configured type. */
        _cleanup_free_ char *cmd = strdupf("mkfs.ext4 -q -F -L given %s >/dev/null 2>&1", blank);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(unlink(link), 0);
        assert_int_equal(symlink(blank, link), 0);
        s.fstype = "xfs";
        d3 = describe(&s);
        assert_non_null(strstr(d3, "holds ext4 (UUID "));
        assert_non_null(strstr(d3, ", label given), not the configured type: would use it as it is"));

        /* Not found at all. */
        s.device = "/dev/missing";
        d4 = describe(&s);
        assert_non_null(strstr(d4, "would fail: etcd.dataDevice /dev/missing"));
        assert_int_equal(fb_etcd_disk_check(&s), 0);
        assert_int_equal(fb_etcd_disk_prepare(&s, &res, &why), -ENXIO);

        /* A bad spec is refused before anything is looked at. */
        s.device = "LABEL=x";
        s.label = "much-too-long-for-xfs";
        assert_int_equal(fb_etcd_disk_prepare(&s, &res, &why), -EINVAL);
        assert_non_null(strstr(why.message, "1-12"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_spec_problem),
                cmocka_unit_test(test_unit_names),
                cmocka_unit_test(test_unit_texts),
                cmocka_unit_test(test_mountinfo),
                cmocka_unit_test(test_config_schema),
                cmocka_unit_test_setup_teardown(test_describe_and_refuse_on_images, setup, teardown),
        };
        return cmocka_run_group_tests_name("etcd-disk", tests, NULL, NULL);
}
