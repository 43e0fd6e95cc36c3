/* SPDX-License-Identifier: Apache-2.0 */
/* Platform detection and every datasource parser, against the real sample data in tests/fixtures. */
#include <errno.h>
#include <sys/stat.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "metadata/metadata.h"
#include "metadata/source.h"
#include "metadata/xml.h"
#include "common/yamlutil.h"
#include "tests/unit/unit.h"

#define FIX "tests/fixtures/metadata/"

static char *fixture(const char *name, size_t *len) {
        char *s = NULL;
        _cleanup_free_ char *p = strdupf(FIX "%s", name);
        assert_int_equal(read_file(NULL, p, 0, &s, len), 0);
        return s;
}

static void put(const char *root, const char *path, const char *text) {
        assert_int_equal(write_string_atomic(root, path, text, 0644, WRITE_MKDIR_PARENTS), 0);
}

static void test_platform_dmi(void **state) {
        static const struct {
                const char *file, *value, *platform;
        } cases[] = {
                {"/sys/class/dmi/id/product_uuid", "EC23AEF5-54BE-4843-8D24-8C819F88453E\n", "ec2"},
                {"/sys/class/dmi/id/product_uuid", "AB232AEC-54BE-4843-8D24-8C819F88453E\n", "ec2"},
                {"/sys/hypervisor/uuid", "ec2c6e2f-5fac-4fc7-9c82-74127ec14bbb\n", "ec2"},
                {"/sys/class/dmi/id/sys_vendor", "Amazon EC2\n", "ec2"},
                {"/sys/class/dmi/id/chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77\n", "azure"},
                {"/sys/class/dmi/id/product_name", "Google Compute Engine\n", "gce"},
                {"/sys/class/dmi/id/product_serial", "GoogleCloud-ABC\n", "gce"},
                {"/sys/class/dmi/id/product_name", "OpenStack Nova\n", "openstack"},
                {"/sys/class/dmi/id/chassis_asset_tag", "HUAWEICLOUD\n", "openstack"},
                {"/sys/class/dmi/id/product_name", "VMware7,1\n", "vmware"},
                {"/sys/class/dmi/id/product_serial", "ds=nocloud;s=http://10.0.0.1/\n", "nocloud"},
                {"/sys/class/dmi/id/product_name", "Standard PC (Q35 + ICH9, 2009)\n", "unknown"},
                {"/sys/class/dmi/id/product_uuid", "12345678-54BE-4843-8D24-8C819F88453E\n", "unknown"},
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *root = unit_mkdtemp();
                _cleanup_(md_platform_freep) struct md_platform *p = NULL;
                put(root, cases[i].file, cases[i].value);
                assert_int_equal(md_platform_detect(root, &p), 0);
                if (!streq(p->id, cases[i].platform))
                        fail_msg("%s=%s: got %s, wanted %s", cases[i].file, cases[i].value, p->id,
                                 cases[i].platform);
                unit_rm_rf(root);
        }
}

static void test_platform_cmdline(void **state) {
        _cleanup_free_ char *root = unit_mkdtemp();
        _cleanup_(md_platform_freep) struct md_platform *p = NULL, *q = NULL;
        _cleanup_free_ char *s = NULL, *h = NULL, *none = NULL;
        (void) state;
        put(root, "/proc/cmdline",
            "root=LABEL=uec-rootfs ro ds=\"nocloud;s=http://10.0.0.1/seed/;h=n1\" quiet\n");
        assert_int_equal(md_platform_detect(root, &p), 0);
        assert_string_equal(p->id, "nocloud");
        assert_string_equal(p->forced, "nocloud");
        s = md_nocloud_setting(p->nocloud, "s", "seedfrom");
        h = md_nocloud_setting(p->nocloud, "h", "local-hostname");
        none = md_nocloud_setting(p->nocloud, "i", "instance-id");
        assert_string_equal(s, "http://10.0.0.1/seed/");
        assert_string_equal(h, "n1");
        assert_null(none);
        put(root, "/proc/cmdline", "ignition.firstboot ignition.platform.id=gcp\n");
        assert_int_equal(md_platform_detect(root, &q), 0);
        assert_string_equal(q->id, "gce");
        assert_string_equal(q->ignition, "gcp");
        unit_rm_rf(root);
}

static void test_json_exact_integers(void **state) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(cJSON_Deletep) cJSON *j = NULL, *k = NULL;
        size_t len;
        (void) state;
        text = fixture("gce/jupyter-extensions-computeMetadata-v1-recursive.json", &len);
        assert_int_equal(md_json_parse(text, len, &j), 0);
        assert_string_equal(json_get_string(j, "instance.id"), "127546640929027970");
        /* Small numbers, floats and numbers inside strings are left alone. */
        static const char small[] = "{\"a\": 12, \"b\": 1.5e3, \"c\": \"12345678901234567890\", "
                                    "\"d\": [-12345678901234567890]}";
        assert_int_equal(md_json_parse(small, strlen(small), &k), 0);
        assert_true(cJSON_IsNumber(json_get(k, "a")));
        assert_true(cJSON_IsNumber(json_get(k, "b")));
        assert_string_equal(cJSON_GetArrayItem(json_get(k, "d"), 0)->valuestring, "-12345678901234567890");
}

static struct md_instance *new_instance(void) {
        struct md_instance *i = md_instance_new();
        assert_non_null(i);
        return i;
}

static void test_gce_fixtures(void **state) {
        _cleanup_free_ char *text = NULL, *paths = NULL;
        _cleanup_(md_instance_freep) struct md_instance *i = new_instance(), *k = new_instance();
        _cleanup_(cJSON_Deletep) cJSON *p = NULL;
        size_t len;
        (void) state;
        text = fixture("gce/jupyter-extensions-computeMetadata-v1-recursive.json", &len);
        assert_int_equal(md_gce_parse_instance(text, len, i), 0);
        assert_string_equal(i->instance_id, "127546640929027970");
        assert_string_equal(i->zone, "us-west1-b");
        assert_string_equal(i->region, "us-west1");
        assert_string_equal(i->hostname, "pytorch");
        assert_string_equal(json_get_string(i->tags, "framework"), "PyTorch:1.4");

        /* cloud-init's test case: user-data with user-data-encoding base64. */
        paths = fixture("gce/cloudinit-test-gce-metadata-paths.json", &len);
        assert_int_equal(json_parse(paths, len, 0, &p, NULL), 0);
        const cJSON *enc = json_get(p, "GCE_META_ENCODING");
        _cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "id", json_get_string(enc, "instance/id"));
        cJSON_AddStringToObject(doc, "zone", json_get_string(enc, "instance/zone"));
        cJSON_AddStringToObject(doc, "hostname", json_get_string(enc, "instance/hostname"));
        cJSON_AddItemToObject(doc, "attributes",
                              cJSON_Duplicate(json_get(enc, "instance/attributes"), true));
        _cleanup_free_ char *body = json_to_string(doc);
        assert_int_equal(md_gce_parse_instance(body, strlen(body), k), 0);
        assert_string_equal(k->userdata, "#!/bin/echo baz\n");
        assert_string_equal(k->zone, "bang");
        assert_string_equal(k->hostname, "server");
}

static void test_azure_fixtures(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *ovf = NULL, *frag = NULL;
        _cleanup_(md_instance_freep) struct md_instance *i = new_instance(), *j = new_instance(),
                                                        *o = new_instance(), *f = new_instance();
        size_t la, lb, lo, lf;
        (void) state;
        a = fixture("azure/walinuxagent-imds-valid.json", &la);
        assert_int_equal(md_azure_parse_imds(a, la, i), 0);
        assert_string_equal(i->instance_id, "e7fdbfc4-2deb-4a4e-8615-ea6aaf50162e");
        assert_string_equal(i->region, "westus");
        assert_string_equal(i->hostname, "health");
        assert_string_equal(i->local_ipv4, "10.0.1.4");
        assert_null(i->zone);

        /* A compute object alone with tags in the string form. */
        b = fixture("azure/walinuxagent-imds-compute-cvm.json", &lb);
        _cleanup_free_ char *wrapped = strdupf("{\"compute\": %s}", b);
        assert_int_equal(md_azure_parse_imds(wrapped, strlen(wrapped), j), 0);
        assert_non_null(j->instance_id);
        assert_true(cJSON_GetArraySize(j->tags) > 0);

        ovf = fixture("azure/walinuxagent-ovf-env.xml", &lo);
        /* Its CustomData is a placeholder word, which decodes leniently into bytes: not an error. */
        assert_int_equal(md_azure_parse_ovf(ovf, lo, o), 0);
        assert_string_equal(o->hostname, "HostName");

        frag = fixture("azure/cloudinit-doc-ovf-provisioning-section.xml", &lf);
        _cleanup_free_ char *doc = strdupf("<wa:ProvisioningSection>%s</wa:ProvisioningSection>", frag);
        assert_int_equal(md_azure_parse_ovf(doc, strlen(doc), f), 0);
        assert_string_equal(f->userdata, "this is my userdata");
}

static void test_xml(void **state) {
        static const char x[] = "<a:Env xmlns:a=\"x\"><a:Name>n&amp;1</a:Name><Empty/>"
                                "<Property oe:key=\"user-data\" oe:value=\"I2Nsb3Vk&#61;\"/></a:Env>";
        _cleanup_free_ char *n = md_xml_element_text(x, strlen(x), "Name"),
                            *e = md_xml_element_text(x, strlen(x), "Empty"),
                            *p = md_xml_ovf_property(x, strlen(x), "user-data"),
                            *m = md_xml_element_text(x, strlen(x), "Missing");
        (void) state;
        assert_string_equal(n, "n&1");
        assert_string_equal(e, "");
        assert_string_equal(p, "I2Nsb3Vk=");
        assert_null(m);
}

static void test_openstack_fixtures(void **state) {
        static const char *const metas[] = {
                "openstack/configdrive-cloudinit/openstack/latest/meta_data.json",
                "openstack/afterburn/config-drive2/openstack/latest/meta_data.json",
                "openstack/afterburn/kubevirt-config-drive/openstack/latest/meta_data.json",
                "openstack/afterburn/metadata-service/openstack/2012-08-10/meta_data.json",
        };
        static const char *const nets[] = {
                "openstack/configdrive-cloudinit/openstack/latest/network_data.json",
                "openstack/cloudinit-network_data_2.json",
                "openstack/cloudinit-network_data_3.json",
                "openstack/cloudinit-network_data_vlan.json",
                "openstack/afterburn/kubevirt-config-drive/openstack/latest/network_data.json",
        };
        (void) state;
        for (size_t k = 0; k < ELEMENTSOF(metas); k++) {
                _cleanup_free_ char *t = NULL;
                _cleanup_(md_instance_freep) struct md_instance *i = new_instance();
                size_t len;
                t = fixture(metas[k], &len);
                assert_int_equal(md_openstack_parse_meta(t, len, i), 0);
                assert_non_null(i->instance_id);
        }
        for (size_t k = 0; k < ELEMENTSOF(nets); k++) {
                _cleanup_free_ char *t = NULL;
                _cleanup_(md_instance_freep) struct md_instance *i = new_instance();
                size_t len;
                t = fixture(nets[k], &len);
                assert_int_equal(md_openstack_parse_network(t, len, i), 0);
        }
        _cleanup_(md_instance_freep) struct md_instance *bad = new_instance();
        assert_int_equal(md_openstack_parse_meta("{\"name\": \"x\"}", 13, bad), -EBADMSG);
}

static void test_vmware_fixtures(void **state) {
        _cleanup_free_ char *gz = NULL, *b64 = NULL, *plain = NULL, *ud = NULL, *wt = NULL;
        _cleanup_free_ char *dec = NULL, *dec2 = NULL;
        _cleanup_(md_instance_freep) struct md_instance *i = new_instance(), *w = new_instance();
        size_t len, n, n2, pl, ul;
        (void) state;
        gz = fixture("vmware/derived-guestinfo.metadata.gzip+base64.txt", &len);
        plain = fixture("vmware/cloudinit-guestinfo.metadata.yaml", &pl);
        assert_int_equal(md_vmware_decode(gz, "gzip+base64", &dec, &n), 0);
        assert_int_equal(n, pl);
        assert_memory_equal(dec, plain, pl);
        b64 = fixture("vmware/derived-guestinfo.userdata.base64.txt", &len);
        ud = fixture("vmware/cloudinit-guestinfo.userdata.yaml", &ul);
        assert_int_equal(md_vmware_decode(b64, "b64", &dec2, &n2), 0);
        assert_memory_equal(dec2, ud, ul);
        assert_int_equal(md_vmware_decode("x", "rot13", &dec2, &n2), -EINVAL);
        assert_int_equal(md_vmware_parse_metadata(dec, n, i), 0);
        assert_string_equal(i->instance_id, "cloud-vm");
        wt = fixture("vmware/cloudinit-doc-walkthrough-meta-data.yaml", &len);
        assert_int_equal(md_vmware_parse_metadata(wt, len, w), 0);
        assert_non_null(w->instance_id);
}

static void test_instance_view_json(void **state) {
        _cleanup_(md_instance_freep) struct md_instance *i = new_instance();
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        static const char ud[] = "#cloud-config\nkube_firstboot: {secrets: {bootstrapToken: {value: "
                                 "abcdef.0123456789abcdef}}}\n";
        (void) state;
        assert_int_equal(md_set(&i->instance_id, "  i-1 \n"), 0);
        assert_int_equal(md_tag(i, "role", "worker"), 0);
        assert_int_equal(md_tag(i, "join-token", "abcdef.0123456789abcdef"), 0);
        md_set_userdata(i, strdup(ud), strlen(ud));
        assert_int_equal(md_userdata_decode(i->userdata, i->userdata_len, &i->ud), 0);
        j = md_instance_to_json(i);
        _cleanup_free_ char *s = json_to_string(j);
        assert_string_equal(json_get_string(j, "instanceId"), "i-1");
        assert_string_equal(json_get_string(j, "tags.role"), "worker");
        assert_null(strstr(s, "0123456789abcdef"));
        assert_string_equal(json_get_string(cJSON_GetArrayItem(json_get(j, "userData.parts"), 0), "type"),
                            "text/cloud-config");
}

static void test_region_from_zone(void **state) {
        _cleanup_(md_instance_freep) struct md_instance *a = new_instance(), *b = new_instance();
        (void) state;
        md_set(&a->zone, "us-east-1a");
        md_region_from_zone(a, false);
        assert_string_equal(a->region, "us-east-1");
        md_set(&b->zone, "europe-west4-c");
        md_region_from_zone(b, true);
        assert_string_equal(b->region, "europe-west4");
}

/* The media readers on images built the way users build them. */
static void test_media_readers(void **state) {
        _cleanup_free_ char *dir = unit_mkdtemp(), *cmd = NULL, *iso = NULL, *vfat = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL, *img = NULL, *img2 = NULL;
        size_t al, bl, il, il2;
        (void) state;
        cmd = strdupf("cd %s && mkdir -p t/openstack/latest && printf 'hello-iso' > "
                      "t/openstack/latest/user_data && "
                      "printf 'instance-id: x\\n' > t/meta-data && "
                      "genisoimage -quiet -o c.iso -V config-2 -J -r t && truncate -s 2M c.vfat && "
                      "mkfs.vfat -n CIDATA c.vfat >/dev/null && mcopy -i c.vfat t/meta-data ::meta-data && "
                      "mmd -i c.vfat ::openstack ::openstack/latest && "
                      "mcopy -i c.vfat t/openstack/latest/user_data ::openstack/latest/user_data",
                      dir);
        if (system(cmd) != 0)
                skip();
        iso = strdupf("%s/c.iso", dir);
        vfat = strdupf("%s/c.vfat", dir);
        assert_int_equal(read_file(NULL, iso, 0, &img, &il), 0);
        assert_int_equal(read_file(NULL, vfat, 0, &img2, &il2), 0);
        assert_int_equal(md_iso9660_read(img, il, "/openstack/latest/user_data", 0, &a, &al), 0);
        assert_string_equal(a, "hello-iso");
        assert_int_equal(md_vfat_read(img2, il2, "/OPENSTACK/latest/USER_DATA", 0, &b, &bl), 0);
        assert_string_equal(b, "hello-iso");
        free(a);
        assert_int_equal(md_vfat_read(img2, il2, "/meta-data", 0, &a, &al), 0);
        assert_string_equal(a, "instance-id: x\n");
        free(a), a = NULL;
        assert_int_equal(md_iso9660_read(img, il, "/nope", 0, &a, &al), -ENOENT);
        assert_int_equal(md_vfat_read(img2, il2, "/openstack/latest/user_data", 3, &a, &al), -EFBIG);
        /* Each reader refuses the other's image, and truncated images fail cleanly. */
        assert_true(md_iso9660_read(img2, il2, "/meta-data", 0, &a, &al) < 0);
        assert_true(md_vfat_read(img, il, "/meta-data", 0, &a, &al) < 0);
        assert_true(md_iso9660_read(img, 40000, "/openstack/latest/user_data", 0, &a, &al) < 0);

        /* Probing through libblkid: label and type. */
        _cleanup_free_ char *label = NULL, *type = NULL;
        assert_int_equal(md_probe(vfat, &label, &type), 0);
        assert_string_equal(label, "CIDATA");
        assert_string_equal(type, "vfat");
        unit_rm_rf(dir);
}

static struct md_instance *fetch_from(const char *root, const char *ds) {
        struct md_options o = {.root = root, .datasource = ds};
        struct md_instance *i = NULL;
        assert_int_equal(md_fetch(&o, &i), 0);
        return i;
}

static void copy_fixture(const char *root, const char *fix, const char *to) {
        _cleanup_free_ char *t = NULL;
        size_t n;
        t = fixture(fix, &n);
        assert_int_equal(write_file_atomic(root, to, t, n, 0644, WRITE_MKDIR_PARENTS), 0);
}

/* Every sample that fits one of our readers goes through it. */
static void test_every_fixture(void **state) {
        (void) state;
        /* cloud-init's files: public, redacted and sensitive variants. */
        static const char *const ci[] = {"cloud-init/cloudinit-test-instance-data.json",
                                         "cloud-init/cloudinit-test-instance-data.redacted.json",
                                         "cloud-init/cloudinit-test-instance-data-sensitive.json",
                                         "cloud-init/instance-data.v1-subset.ec2.json"};
        for (size_t k = 0; k < ELEMENTSOF(ci); k++) {
                _cleanup_free_ char *root = unit_mkdtemp();
                copy_fixture(root, ci[k], "/run/cloud-init/instance-data.json");
                _cleanup_(md_instance_freep) struct md_instance *i = fetch_from(root, "cloud-init");
                assert_non_null(i->instance_id);
                unit_rm_rf(root);
        }
        /* NoCloud seed directories. */
        static const struct {
                const char *dir, *iid, *host;
        } seeds[] = {
                {"nocloud/seed-dir-example", "i-87018aed", NULL},
                {"nocloud/kernel_cmdline_match", NULL, NULL}, /* its key really reads "instance=id" */
                {"nocloud/afterburn-kubevirt-nocloud_v1", "5d307ca9-b3ef-428c-8861-06e72d69f223",
                 "test-nocloud-v1.foo.cloud"},
        };
        for (size_t k = 0; k < ELEMENTSOF(seeds); k++) {
                _cleanup_free_ char *root = unit_mkdtemp(), *md = strdupf("%s/meta-data", seeds[k].dir),
                                    *ud = strdupf("%s/user-data", seeds[k].dir);
                copy_fixture(root, md, "/var/lib/cloud/seed/nocloud/meta-data");
                copy_fixture(root, ud, "/var/lib/cloud/seed/nocloud/user-data");
                _cleanup_(md_instance_freep) struct md_instance *i = fetch_from(root, "nocloud");
                assert_true(streq_ptr(i->instance_id, seeds[k].iid));
                if (seeds[k].host)
                        assert_string_equal(i->hostname, seeds[k].host);
                unit_rm_rf(root);
        }
        {
                _cleanup_free_ char *root = unit_mkdtemp();
                copy_fixture(root, "nocloud/cloudinit-doc-meta-data",
                             "/var/lib/cloud/seed/nocloud-net/meta-data");
                copy_fixture(root, "nocloud/seed-dir-example/user-data",
                             "/var/lib/cloud/seed/nocloud-net/user-data");
                copy_fixture(root, "nocloud/cloudinit-doc-network-config-v1.yaml",
                             "/var/lib/cloud/seed/nocloud-net/network-config");
                _cleanup_(md_instance_freep) struct md_instance *i = fetch_from(root, "nocloud");
                assert_string_equal(i->instance_id, "iid-abcdefg");
                assert_string_equal(i->hostname, "myhost");
                unit_rm_rf(root);
        }
        {
                _cleanup_free_ char *t = NULL;
                _cleanup_(cJSON_Deletep) cJSON *d = NULL;
                _cleanup_(md_instance_freep) struct md_instance *i = new_instance();
                size_t n;
                t = fixture("nocloud/cloudinit-doc-network-config-v2.yaml", &n);
                assert_int_equal(yaml_parse_documents(t, n, &d, NULL), 0);
                md_addresses_from_network_config(i, cJSON_GetArrayItem(d, 0));
        }
        /* Kernel command lines: nocloud lines are found with their seedfrom; others are not nocloud. */
        {
                _cleanup_free_ char *t = NULL;
                size_t n;
                t = fixture("nocloud/kernel-cmdline-examples.txt", &n);
                for (char *line = t, *next; line && *line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = 0;
                        if (line[0] == '#' || !*line)
                                continue;
                        _cleanup_free_ char *root = unit_mkdtemp(), *cl = strdupf("%s\n", line);
                        _cleanup_(md_platform_freep) struct md_platform *p = NULL;
                        put(root, "/proc/cmdline", cl);
                        assert_int_equal(md_platform_detect(root, &p), 0);
                        if (strstr(line, "ds=nocloud"))
                                assert_string_equal(p->id, "nocloud");
                        else if (strstr(line, "ds=openstack"))
                                assert_string_equal(p->forced, "openstack");
                        else if (strstr(line, "coreos.oem.id=ec2"))
                                assert_string_equal(p->id, "ec2");
                        if (strstr(line, ";s=")) {
                                _cleanup_free_ char *s = md_nocloud_setting(p->nocloud, "s", "seedfrom");
                                assert_non_null(s);
                                assert_true(endswith(s, "/"));
                        }
                        unit_rm_rf(root);
                }
        }
        /* Azure: the IMDS documents and the pieces the docs show one by one. */
        static const char *const azure[] = {"azure/cloudinit-imds-instance.json",
                                            "azure/walinuxagent-imds-valid.json"};
        for (size_t k = 0; k < ELEMENTSOF(azure); k++) {
                _cleanup_free_ char *t = NULL;
                _cleanup_(md_instance_freep) struct md_instance *i = new_instance();
                size_t n;
                t = fixture(azure[k], &n);
                assert_int_equal(md_azure_parse_imds(t, n, i), 0);
                assert_non_null(i->local_ipv4);
        }
        {
                _cleanup_free_ char *tags = NULL, *list = NULL, *nic = NULL, *nic2 = NULL, *a = NULL,
                                    *b = NULL, *c = NULL;
                _cleanup_(md_instance_freep) struct md_instance *i = new_instance(), *j = new_instance(),
                                                                *k = new_instance();
                size_t n;
                tags = fixture("azure/msdocs-imds-compute-tags.txt", &n);
                strstrip(tags);
                list = fixture("azure/msdocs-imds-compute-tagsList.json", &n);
                nic = fixture("azure/msdocs-imds-network-interface-0.json", &n);
                nic2 = fixture("azure/cloudinit-imds-secondary-interface.json", &n);
                a = strdupf("{\"compute\": {\"vmId\": \"v\", \"tags\": \"%s\"}}", tags);
                b = strdupf("{\"compute\": {\"vmId\": \"v\", \"tagsList\": %s}}", list);
                c = strdupf("{\"compute\": {\"vmId\": \"v\"}, \"network\": {\"interface\": [%s, %s]}}", nic,
                            nic2);
                assert_int_equal(md_azure_parse_imds(a, strlen(a), i), 0);
                assert_int_equal(md_azure_parse_imds(b, strlen(b), j), 0);
                /* Both forms give the same tags. */
                assert_string_equal(json_get_string(i->tags, "ReferenceNumber"), "123456");
                assert_true(cJSON_Compare(i->tags, j->tags, true));
                assert_int_equal(md_azure_parse_imds(c, strlen(c), k), 0);
                assert_non_null(k->local_ipv4);
        }
        /* EC2: identity documents and per-NIC subtrees parse; their ids are read. */
        static const char *const ec2[] = {"ec2/awsdocs-instance-identity-document.json",
                                          "ec2/cloudinit-instance-identity-document.json",
                                          "ec2/cloudinit-nic1_md_ipv4_ipv6_multi_ip.json",
                                          "ec2/cloudinit-nic2_md.json",
                                          "ec2/cloudinit-crawled-meta-data-2016-09-02.json",
                                          "ec2/derived-imds-path-responses-2016-09-02.json"};
        for (size_t k = 0; k < ELEMENTSOF(ec2); k++) {
                _cleanup_free_ char *t = NULL;
                _cleanup_(cJSON_Deletep) cJSON *j = NULL;
                size_t n;
                t = fixture(ec2[k], &n);
                assert_int_equal(md_json_parse(t, n, &j), 0);
                if (k < 2)
                        assert_non_null(json_get_string(j, "instanceId"));
        }
        /* Ignition configs are recognized as such (and are not our configuration). */
        static const char *const ign[] = {"ignition/example-add-users.ign",
                                          "ignition/example-modify-service-dropin.ign",
                                          "ignition/example-raid-data-volume-with-mount-unit.ign",
                                          "ignition/example-set-hostname.ign",
                                          "ignition/example-start-service.ign",
                                          "ignition/example-write-file.ign"};
        for (size_t k = 0; k < ELEMENTSOF(ign); k++) {
                _cleanup_free_ char *t = NULL;
                _cleanup_(md_userdata_freep) struct md_userdata *u = NULL;
                size_t n;
                t = fixture(ign[k], &n);
                assert_int_equal(md_userdata_decode(t, n, &u), 0);
                assert_string_equal(u->parts[0].type, "application/vnd.coreos.ignition+json");
        }
        /* VMware: the other guestinfo samples and the doc's instance-data view. */
        static const char *const vmw[] = {"vmware/cloudinit-guestinfo.metadata-with-network-drivers.yaml",
                                          "vmware/cloudinit-doc-instance-data-example.json"};
        for (size_t k = 0; k < ELEMENTSOF(vmw); k++) {
                _cleanup_free_ char *t = NULL;
                _cleanup_(md_instance_freep) struct md_instance *i = new_instance();
                size_t n;
                t = fixture(vmw[k], &n);
                assert_int_equal(md_vmware_parse_metadata(t, n, i), 0);
        }
        static const char *const vud[] = {"vmware/cloudinit-guestinfo.vendordata.yaml",
                                          "vmware/cloudinit-doc-walkthrough-user-data.yaml"};
        for (size_t k = 0; k < ELEMENTSOF(vud); k++) {
                _cleanup_free_ char *t = NULL;
                _cleanup_(md_userdata_freep) struct md_userdata *u = NULL;
                size_t n;
                t = fixture(vud[k], &n);
                assert_int_equal(md_userdata_decode(t, n, &u), 0);
                assert_int_equal(u->n_parts, 1);
        }
        {
                _cleanup_free_ char *t = NULL;
                size_t n;
                t = fixture("vmware/cloudinit-ovf-env.xml", &n);
                _cleanup_free_ char *ud = md_xml_ovf_property(t, n, "user-data"),
                                    *iid = md_xml_ovf_property(t, n, "instance-id");
                assert_non_null(ud);
                assert_non_null(iid);
        }
        /* Afterburn and Flatcar attribute files. */
        static const char *const ab[][2] = {
                {"afterburn/derived-run-metadata-afterburn.env", "/run/metadata/afterburn"},
                {"afterburn/derived-run-metadata-flatcar.env", "/run/metadata/flatcar"}};
        for (size_t k = 0; k < ELEMENTSOF(ab); k++) {
                _cleanup_free_ char *root = unit_mkdtemp();
                copy_fixture(root, ab[k][0], ab[k][1]);
                _cleanup_(md_instance_freep) struct md_instance *i = fetch_from(root, "files");
                assert_string_equal(i->instance_id, "test-instance-id");
                assert_string_equal(i->hostname, "test-hostname");
                assert_string_equal(i->region, "test-region");
                unit_rm_rf(root);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_platform_dmi),        cmocka_unit_test(test_platform_cmdline),
                cmocka_unit_test(test_json_exact_integers), cmocka_unit_test(test_gce_fixtures),
                cmocka_unit_test(test_azure_fixtures),      cmocka_unit_test(test_xml),
                cmocka_unit_test(test_openstack_fixtures),  cmocka_unit_test(test_vmware_fixtures),
                cmocka_unit_test(test_instance_view_json),  cmocka_unit_test(test_region_from_zone),
                cmocka_unit_test(test_media_readers),       cmocka_unit_test(test_every_fixture),
        };
        return cmocka_run_group_tests_name("metadata", tests, NULL, NULL);
}
