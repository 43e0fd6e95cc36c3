/* SPDX-License-Identifier: Apache-2.0 */
/* pki/renewal: what is due, and a renewal over a PKI made by pki_node_ensure() as kubeadm's
 * TestRenewUsingLocalCA checks it (new serial, new key, same fields, kubeadm's validity, the CA on disk),
 * the kubeconfigs (data replaced, all else kept), missing and external-CA rows, and all-or-nothing writes.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/strutil.h"
#include "pki/cert.h"
#include "pki/certlist.h"
#include "pki/encoding.h"
#include "pki/key.h"
#include "pki/kubeconfig.h"
#include "pki/renewal.h"
#include "tests/unit/unit.h"

#define DAY   86400
#define MADE  1755594210 /* Aug 19, 2025 09:03:30 UTC */
#define LATER (MADE + 335 * DAY)

struct scene {
        char *root;
        struct pki_node_spec spec;
};

static void scene_make(struct scene *s) {
        _cleanup_(pki_report_done) struct pki_report rep = {};

        s->root = unit_mkdtemp();
        assert_int_equal(pki_node_spec_init(&s->spec), 0);
        s->spec.node_name = strdup("cp-1");
        s->spec.advertise_address = strdup("192.168.10.11");
        s->spec.key_type = PKI_KEY_ECDSA_P256;
        s->spec.now = MADE;
        assert_int_equal(pki_node_ensure(s->root, &s->spec, &rep), 0);
        s->spec.now = LATER; /* the renewal's clock */
}

static void scene_done(struct scene *s) {
        unit_rm_rf(s->root);
        free(s->root);
        pki_node_spec_done(&s->spec);
}

static char *read_text(const struct scene *s, const char *path) {
        char *t = NULL;
        assert_int_equal(read_file(s->root, path, PKI_FILE_MAX, &t, NULL), 0);
        return t;
}

static X509 *load(const struct scene *s, const char *path) {
        _cleanup_free_ char *t = read_text(s, path);
        X509 *x = NULL;
        if (endswith(path, ".crt"))
                assert_int_equal(pki_cert_from_pem(t, strlen(t), &x), 0);
        else {
                struct pki_kubeconfig kc = {};
                assert_int_equal(pki_kubeconfig_parse(t, strlen(t), &kc), 0);
                assert_int_equal(pki_cert_from_pem(kc.cert_pem, kc.cert_len, &x), 0);
                pki_kubeconfig_done(&kc);
        }
        return x;
}

static const struct pki_renewal *item(const struct pki_renewal_report *r, const char *name) {
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->items[i].name, name))
                        return &r->items[i];
        fail_msg("no item %s", name);
        return NULL;
}

/* The text without the values of its *-data fields. */
static char *shape(char *t) {
        for (char *p = strstr(t, "-data: "); p; p = strstr(p, "-data: ")) {
                char *e = strchr(p, '\n');
                p += strlen("-data: ");
                memmove(p, e, strlen(e) + 1);
        }
        return t;
}

static void test_due(void **state) {
        (void) state;
        /* a year: 20 % is 73 days */
        assert_false(pki_renewal_due(0, 365 * DAY, 292 * DAY - 1, 20));
        assert_true(pki_renewal_due(0, 365 * DAY, 292 * DAY + 1, 20));
        assert_true(pki_renewal_due(0, 365 * DAY, 400 * DAY, 20)); /* expired */
        assert_false(pki_renewal_due(0, 365 * DAY, 1, 99));
        assert_true(pki_renewal_due(0, 365 * DAY, 0, 100));
        assert_true(pki_renewal_due(10, 10, 0, 20)); /* no lifetime */
}

static void same_fields(X509 *a, X509 *b, const char *name) {
        _cleanup_(pki_cert_fields_done) struct pki_cert_fields fa = {}, fb = {};
        assert_int_equal(pki_cert_fields_read(a, &fa), 0);
        assert_int_equal(pki_cert_fields_read(b, &fb), 0);
        if (!streq(fa.cn, fb.cn) || !streq(fa.org ?: "", fb.org ?: "") || fa.eku != fb.eku)
                fail_msg("%s: subject or usages changed", name);
        for (size_t i = 0; fa.dns && fa.dns[i]; i++)
                if (!fb.dns || !streq(fa.dns[i], fb.dns[i] ?: ""))
                        fail_msg("%s: DNS SANs changed", name);
        for (size_t i = 0; fa.ips && fa.ips[i]; i++)
                if (!fb.ips || !streq(fa.ips[i], fb.ips[i] ?: ""))
                        fail_msg("%s: IP SANs changed", name);
}

static void test_renew_all_due(void **state) {
        static const char *const files[] = {"/etc/kubernetes/pki/apiserver.crt",
                                            "/etc/kubernetes/pki/etcd/peer.crt",
                                            "/etc/kubernetes/pki/front-proxy-client.crt",
                                            "/etc/kubernetes/admin.conf", "/etc/kubernetes/scheduler.conf"};
        _cleanup_(pki_renewal_report_done) struct pki_renewal_report rep = {};
        _cleanup_free_ char *ca_before = NULL, *ca_after = NULL, *kubelet_before = NULL,
                            *kubelet_after = NULL;
        struct scene s = {};
        X509 *old[ELEMENTSOF(files)];
        (void) state;

        scene_make(&s);
        ca_before = read_text(&s, "/etc/kubernetes/pki/ca.crt");
        kubelet_before = read_text(&s, "/etc/kubernetes/kubelet.conf");
        _cleanup_free_ char *admin_before = read_text(&s, "/etc/kubernetes/admin.conf");
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                old[i] = load(&s, files[i]);

        /* 335 days into a 365-day life: due at 20 %; a dry run says so and writes nothing */
        assert_int_equal(pki_renew(s.root, &s.spec, LATER, 20, true, &rep), 0);
        assert_int_equal(item(&rep, "apiserver")->outcome, PKI_RENEWAL_RENEWED);
        assert_int_equal(rep.n_renewed, 11); /* an init node: super-admin.conf too */
        pki_renewal_report_done(&rep);
        {
                _cleanup_(X509_freep) X509 *same = load(&s, files[0]);
                assert_int_equal(X509_cmp(same, old[0]), 0);
        }

        assert_int_equal(pki_renew(s.root, &s.spec, LATER, 20, false, &rep), 0);
        assert_int_equal(rep.n_renewed, 11);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_(X509_freep) X509 *now = load(&s, files[i]), *ca = NULL;
                time_t na;
                assert_int_equal(pki_cert_from_pem(ca_before, strlen(ca_before), &ca), 0);
                if (strstr(files[i], "/etcd/") || strstr(files[i], "front-proxy")) {
                        X509_free(ca);
                        _cleanup_free_ char *other = read_text(
                                &s, strstr(files[i], "/etcd/") ? "/etc/kubernetes/pki/etcd/ca.crt"
                                                               : "/etc/kubernetes/pki/front-proxy-ca.crt");
                        ca = NULL;
                        assert_int_equal(pki_cert_from_pem(other, strlen(other), &ca), 0);
                }
                assert_int_equal(pki_cert_issued_by(now, ca), 0);
                assert_int_not_equal(
                        ASN1_INTEGER_cmp(X509_get0_serialNumber(now), X509_get0_serialNumber(old[i])), 0);
                assert_false(pki_key_public_equal(X509_get0_pubkey(now), X509_get0_pubkey(old[i])));
                same_fields(now, old[i], files[i]);
                assert_int_equal(pki_cert_not_after(now, &na), 0);
                assert_int_equal(na, LATER + 365 * DAY);
                assert_int_equal(pki_cert_check_time(now, LATER - 5 * 60), 0);
                assert_int_equal(pki_cert_check_time(now, LATER - 5 * 60 - 1), -EAGAIN);
                X509_free(old[i]);
        }
        /* the key beside a certificate is new and matches it */
        {
                _cleanup_free_ char *k = read_text(&s, "/etc/kubernetes/pki/apiserver.key");
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
                _cleanup_(X509_freep) X509 *c = load(&s, "/etc/kubernetes/pki/apiserver.crt");
                _cleanup_free_ char *full = NULL;
                struct stat st;
                assert_int_equal(pki_key_from_pem(k, strlen(k), &key), 0);
                assert_true(pki_key_public_equal(key, X509_get0_pubkey(c)));
                assert_int_equal(root_path(s.root, "/etc/kubernetes/pki/apiserver.key", &full), 0);
                assert_int_equal(stat(full, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0600);
        }
        /* kubeadm's own kubeconfig layout, byte for byte but for the data */
        {
                _cleanup_free_ char *admin_after = read_text(&s, "/etc/kubernetes/admin.conf");
                assert_string_not_equal(admin_before, admin_after);
                assert_string_equal(shape(admin_before), shape(admin_after));
        }
        ca_after = read_text(&s, "/etc/kubernetes/pki/ca.crt");
        assert_string_equal(ca_before, ca_after);
        kubelet_after = read_text(&s, "/etc/kubernetes/kubelet.conf");
        assert_string_equal(kubelet_before, kubelet_after);

        /* renewed: nothing due any more at the same clock */
        pki_renewal_report_done(&rep);
        assert_int_equal(pki_renew(s.root, &s.spec, LATER, 20, false, &rep), 0);
        assert_int_equal(rep.n_renewed, 0);
        assert_int_equal(item(&rep, "apiserver")->outcome, PKI_RENEWAL_NOT_DUE);
        scene_done(&s);
}

static void test_kubeconfig_keeps_what_it_had(void **state) {
        _cleanup_(pki_renewal_report_done) struct pki_renewal_report rep = {};
        _cleanup_free_ char *text = NULL, *after = NULL;
        struct scene s = {};
        (void) state;

        scene_make(&s);
        /* an operator's second context and a namespace: kept, as kubeadm keeps "all the other attributes" */
        text = read_text(&s, "/etc/kubernetes/admin.conf");
        char *p = strstr(text, "preferences: {}\n");
        assert_non_null(p);
        *p = 0;
        char *edited = strdupf("%spreferences:\n  colors: true\n%s", text, p + strlen("preferences: {}\n"));
        unit_write(s.root, "/etc/kubernetes/admin.conf", edited);
        free(edited);
        assert_int_equal(pki_renew(s.root, &s.spec, LATER, 20, false, &rep), 0);
        after = read_text(&s, "/etc/kubernetes/admin.conf");
        assert_non_null(strstr(after, "colors: true"));
        assert_non_null(strstr(after, "kubernetes-admin@kubernetes"));
        {
                _cleanup_(X509_freep) X509 *c = load(&s, "/etc/kubernetes/admin.conf");
                time_t na;
                assert_int_equal(pki_cert_not_after(c, &na), 0);
                assert_int_equal(na, LATER + 365 * DAY);
        }
        scene_done(&s);
}

static void test_missing_and_external_ca(void **state) {
        _cleanup_(pki_renewal_report_done) struct pki_renewal_report rep = {};
        _cleanup_free_ char *full = NULL;
        struct scene s = {};
        (void) state;

        scene_make(&s);
        assert_int_equal(root_path(s.root, "/etc/kubernetes/super-admin.conf", &full), 0);
        assert_int_equal(unlink(full), 0);
        free(full);
        full = NULL;
        /* front-proxy-ca without its key: kubeadm's external CA mode, its certificate left alone */
        assert_int_equal(root_path(s.root, "/etc/kubernetes/pki/front-proxy-ca.key", &full), 0);
        assert_int_equal(unlink(full), 0);
        assert_int_equal(pki_renew(s.root, &s.spec, LATER, 20, false, &rep), 0);
        assert_int_equal(item(&rep, "super-admin.conf")->outcome, PKI_RENEWAL_MISSING);
        assert_int_equal(item(&rep, "front-proxy-client")->outcome, PKI_RENEWAL_EXTERNAL_CA);
        assert_int_equal(item(&rep, "apiserver")->outcome, PKI_RENEWAL_RENEWED);
        assert_int_equal(rep.n_renewed, 9);
        scene_done(&s);
}

static void test_unreadable_writes_nothing(void **state) {
        _cleanup_(pki_renewal_report_done) struct pki_renewal_report rep = {};
        _cleanup_free_ char *before = NULL, *after = NULL;
        struct scene s = {};
        (void) state;

        scene_make(&s);
        before = read_text(&s, "/etc/kubernetes/pki/apiserver.crt");
        unit_write(s.root, "/etc/kubernetes/scheduler.conf", "not: a kubeconfig\n");
        assert_int_equal(pki_renew(s.root, &s.spec, LATER, 20, false, &rep), -EBADMSG);
        assert_non_null(strstr(rep.error, "scheduler.conf"));
        after = read_text(&s, "/etc/kubernetes/pki/apiserver.crt");
        assert_string_equal(before, after);
        scene_done(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_due),
                cmocka_unit_test(test_renew_all_due),
                cmocka_unit_test(test_kubeconfig_keeps_what_it_had),
                cmocka_unit_test(test_missing_and_external_ca),
                cmocka_unit_test(test_unreadable_writes_nothing),
        };
        return cmocka_run_group_tests_name("pki-renewal", tests, NULL, NULL);
}
