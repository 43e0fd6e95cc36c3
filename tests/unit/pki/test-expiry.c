/* SPDX-License-Identifier: Apache-2.0 */
/* pki/expiry: HumanDuration (apimachinery's own test tables), kubeadm's residual time and date, and the rows
 * of check-expiration over a PKI made by pki_node_ensure(). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/strutil.h"
#include "pki/certlist.h"
#include "pki/expiry.h"
#include "tests/unit/unit.h"

/* Go's time constants, in nanoseconds. */
#define MS   INT64_C(1000000)
#define SEC  (1000 * MS)
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)
#define YEAR (365 * DAY)

struct dcase {
        int64_t d;
        const char *want;
};

static void check_cases(const struct dcase *t, size_t n) {
        for (size_t i = 0; i < n; i++) {
                char buf[PKI_HUMAN_DURATION_MAX];
                const char *got = pki_human_duration(t[i].d, buf);
                if (!streq(got, t[i].want))
                        fail_msg("HumanDuration(%lld ns) = %s, want %s", (long long) t[i].d, got, t[i].want);
        }
}

/* k8s.io/apimachinery/pkg/util/duration/duration_test.go TestHumanDuration, as is. */
static void test_human_duration_apimachinery(void **state) {
        static const struct dcase t[] = {
                {SEC, "1s"},
                {70 * SEC, "70s"},
                {190 * SEC, "3m10s"},
                {70 * MIN, "70m"},
                {47 * HOUR, "47h"},
                {49 * HOUR, "2d1h"},
                {(8 * 24 + 2) * HOUR, "8d"},
                {(367 * 24) * HOUR, "367d"},
                {(365 * 2 * 24 + 25) * HOUR, "2y1d"},
                {(365 * 8 * 24 + 2) * HOUR, "8y"},
        };
        (void) state;
        check_cases(t, ELEMENTSOF(t));
}

/* TestHumanDurationBoundaries, as is: every boundary of the function. */
static void test_human_duration_boundaries(void **state) {
        static const struct dcase t[] = {
                {-2 * SEC, "<invalid>"},
                {-2 * SEC + 1, "0s"},
                {0, "0s"},
                {SEC - MS, "0s"},
                {2 * MIN - MS, "119s"},
                {2 * MIN, "2m"},
                {2 * MIN + SEC, "2m1s"},
                {10 * MIN - MS, "9m59s"},
                {10 * MIN, "10m"},
                {10 * MIN + SEC, "10m"},
                {3 * HOUR - MS, "179m"},
                {3 * HOUR, "3h"},
                {3 * HOUR + MIN, "3h1m"},
                {8 * HOUR - MS, "7h59m"},
                {8 * HOUR, "8h"},
                {8 * HOUR + 59 * MIN, "8h"},
                {2 * DAY - MS, "47h"},
                {2 * DAY, "2d"},
                {2 * DAY + HOUR, "2d1h"},
                {8 * DAY - MS, "7d23h"},
                {8 * DAY, "8d"},
                {8 * DAY + 23 * HOUR, "8d"},
                {2 * YEAR - MS, "729d"},
                {2 * YEAR, "2y"},
                {2 * YEAR + 23 * HOUR, "2y"},
                {2 * YEAR + 23 * HOUR + 59 * MIN, "2y"},
                {2 * YEAR + 24 * HOUR - MS, "2y"},
                {2 * YEAR + 24 * HOUR, "2y1d"},
                {3 * YEAR, "3y"},
                {4 * YEAR, "4y"},
                {5 * YEAR, "5y"},
                {6 * YEAR, "6y"},
                {7 * YEAR, "7y"},
                {8 * YEAR - MS, "7y364d"},
                {8 * YEAR, "8y"},
                {8 * YEAR + 364 * DAY, "8y"},
                {9 * YEAR, "9y"},
        };
        (void) state;
        check_cases(t, ELEMENTSOF(t));
}

/* The values check-expiration meets (kubeadm passes whole seconds), and the ends of Go's Duration. */
static void test_human_duration_kubeadm(void **state) {
        static const struct dcase t[] = {
                {-SEC, "0s"},
                {-2 * SEC, "<invalid>"},
                {-PKI_DURATION_MAX_S * SEC, "<invalid>"},
                {119 * SEC, "119s"},
                {9 * MIN + 59 * SEC, "9m59s"},
                {7 * HOUR + 59 * MIN + 59 * SEC, "7h59m"},
                {7 * DAY + 23 * HOUR + 59 * MIN, "7d23h"},
                {YEAR - SEC, "364d"},
                {YEAR, "365d"},
                {7 * YEAR - DAY + 12 * HOUR, "6y364d"},
                {7 * YEAR - 3 * DAY, "6y362d"},
                {10 * YEAR - SEC, "9y"},
                {PKI_DURATION_MAX_S * SEC, "292y"},
                {INT64_MAX, "292y"},
        };
        (void) state;
        check_cases(t, ELEMENTSOF(t));
}

static void test_residual_seconds(void **state) {
        const time_t t0 = 1756026180; /* Aug 24, 2025 09:03:00 UTC */
        struct timespec now = {t0, 0}, later = {t0, 1};
        char buf[PKI_HUMAN_DURATION_MAX];
        (void) state;

        /* A one-year certificate at the second it was issued, and a moment later: kubeadm's 364d. */
        assert_int_equal(pki_residual_seconds(t0 + 365 * 86400, &now), 365 * 86400);
        assert_int_equal(pki_residual_seconds(t0 + 365 * 86400, &later), 365 * 86400 - 1);
        assert_string_equal(pki_human_duration(pki_residual_seconds(t0 + 365 * 86400, &later) * SEC, buf),
                            "364d");
        /* Truncated toward zero below zero: -0.5 s is 0, -1.5 s is -1 (both "0s"), -2.5 s is -2. */
        assert_int_equal(pki_residual_seconds(t0, &later), 0);
        later.tv_nsec = 500000000;
        assert_int_equal(pki_residual_seconds(t0, &later), 0);
        assert_int_equal(pki_residual_seconds(t0 - 1, &later), -1);
        assert_int_equal(pki_residual_seconds(t0 - 2, &later), -2);
        assert_string_equal(pki_human_duration(pki_residual_seconds(t0 - 1, &later) * SEC, buf), "0s");
        assert_string_equal(pki_human_duration(pki_residual_seconds(t0 - 2, &later) * SEC, buf),
                            "<invalid>");
        /* Go's Sub saturates: a certificate valid until 9999 shows 292y. */
        assert_int_equal(pki_residual_seconds(253402300799, &now), PKI_DURATION_MAX_S);
        assert_int_equal(pki_residual_seconds(-253402300799, &now), -PKI_DURATION_MAX_S);
}

static void test_kubeadm_date(void **state) {
        char buf[PKI_KUBEADM_DATE_MAX];
        (void) state;
        assert_string_equal(pki_kubeadm_date(1787130210, buf), "Aug 19, 2026 09:03 UTC");
        assert_string_equal(pki_kubeadm_date(2070954210, buf), "Aug 17, 2035 09:03 UTC");
        assert_string_equal(pki_kubeadm_date(1896321959, buf), "Feb 03, 2030 04:05 UTC"); /* minutes cut */
        assert_string_equal(pki_kubeadm_date(0, buf), "Jan 01, 1970 00:00 UTC");
        assert_string_equal(pki_kubeadm_date(253402300799, buf), "Dec 31, 9999 23:59 UTC");
}

/* ---- the rows, over a PKI on disk ---- */

struct scene {
        char *root;
        struct pki_node_spec spec;
        time_t made;
};

static void scene_make(struct scene *s, bool external_etcd) {
        _cleanup_(pki_report_done) struct pki_report rep = {};

        s->root = unit_mkdtemp();
        assert_int_equal(pki_node_spec_init(&s->spec), 0);
        s->spec.node_name = strdup("cp-1");
        s->spec.advertise_address = strdup("192.168.10.11");
        s->spec.key_type = PKI_KEY_ECDSA_P256;
        s->spec.external_etcd = external_etcd;
        s->made = s->spec.now = 1755594210; /* Aug 19, 2025 09:03:30 UTC */
        assert_int_equal(pki_node_ensure(s->root, &s->spec, &rep), 0);
        s->spec.now = 0;
}

static void scene_done(struct scene *s) {
        unit_rm_rf(s->root);
        free(s->root);
        pki_node_spec_done(&s->spec);
}

static void remove_file(const struct scene *s, const char *path) {
        _cleanup_free_ char *full = NULL;
        assert_int_equal(root_path(s->root, path, &full), 0);
        assert_int_equal(unlink(full), 0);
}

static const struct pki_expiration *row(const struct pki_expiration_info *i, const char *name) {
        for (size_t k = 0; k < i->n_certs; k++)
                if (streq(i->certs[k].name, name))
                        return &i->certs[k];
        for (size_t k = 0; k < i->n_cas; k++)
                if (streq(i->cas[k].name, name))
                        return &i->cas[k];
        fail_msg("no row %s", name);
        return NULL;
}

static void test_rows_of_an_init_node(void **state) {
        static const char *const names[] = {
                "admin.conf",
                "apiserver",
                "apiserver-etcd-client",
                "apiserver-kubelet-client",
                "controller-manager.conf",
                "etcd-healthcheck-client",
                "etcd-peer",
                "etcd-server",
                "front-proxy-client",
                "scheduler.conf",
                "super-admin.conf",
        };
        static const char *const ca_of[] = {"ca",      "ca",      "etcd-ca",        "ca", "ca", "etcd-ca",
                                            "etcd-ca", "etcd-ca", "front-proxy-ca", "ca", "ca"};
        _cleanup_(pki_expiration_info_done) struct pki_expiration_info info = {};
        struct scene s = {};
        struct timespec now;
        (void) state;

        scene_make(&s, false);
        now = (struct timespec){s.made + 5 * 86400, 0};
        assert_int_equal(pki_expiration_info(s.root, &s.spec, &now, &info), 0);
        assert_int_equal(info.n_certs, ELEMENTSOF(names));
        for (size_t i = 0; i < info.n_certs; i++) {
                const struct pki_expiration *e = &info.certs[i];
                assert_string_equal(e->name, names[i]);
                assert_string_equal(e->ca_name, ca_of[i]);
                assert_false(e->missing);
                assert_true(e->read);
                assert_int_equal(e->error, 0);
                assert_false(e->externally_managed);
                assert_int_equal(e->not_after, s.made + 365 * 86400);
                assert_int_equal(e->not_before, s.made - 300);
        }
        assert_string_equal(row(&info, "etcd-server")->path, "/etc/kubernetes/pki/etcd/server.crt");
        assert_string_equal(row(&info, "admin.conf")->path, "/etc/kubernetes/admin.conf");
        assert_int_equal(info.n_cas, 3);
        assert_string_equal(info.cas[0].name, "ca");
        assert_string_equal(info.cas[1].name, "etcd-ca");
        assert_string_equal(info.cas[2].name, "front-proxy-ca");
        for (size_t i = 0; i < info.n_cas; i++) {
                assert_null(info.cas[i].ca_name);
                assert_true(info.cas[i].read);
                assert_int_equal(info.cas[i].not_after, s.made + 3650 * 86400);
        }
        /* On a tie the first certificate is named, not a CA. */
        assert_string_equal(pki_expiration_nearest(&info, false)->name, "admin.conf");
        assert_string_equal(pki_expiration_nearest(&info, true)->name, "ca");
        scene_done(&s);
}

static void test_rows_missing_and_external_etcd(void **state) {
        _cleanup_(pki_expiration_info_done) struct pki_expiration_info a = {}, b = {};
        struct scene s = {}, x = {};
        (void) state;

        /* A joined control plane has no super-admin.conf; a lost CA is a missing CA row. */
        scene_make(&s, false);
        remove_file(&s, "/etc/kubernetes/super-admin.conf");
        remove_file(&s, "/etc/kubernetes/pki/front-proxy-client.crt");
        remove_file(&s, "/etc/kubernetes/pki/front-proxy-client.key");
        remove_file(&s, "/etc/kubernetes/pki/front-proxy-ca.crt");
        assert_int_equal(pki_expiration_info(s.root, &s.spec, NULL, &a), 0);
        assert_true(row(&a, "super-admin.conf")->missing);
        assert_false(row(&a, "super-admin.conf")->read);
        assert_true(row(&a, "front-proxy-client")->missing);
        assert_true(row(&a, "front-proxy-ca")->missing);
        assert_int_equal(row(&a, "front-proxy-ca")->error, 0);
        assert_false(row(&a, "scheduler.conf")->missing);

        /* External etcd: no etcd rows and no etcd-ca, even with the files there. */
        scene_make(&x, true);
        assert_int_equal(pki_expiration_info(x.root, &x.spec, NULL, &b), 0);
        assert_int_equal(b.n_certs, 7);
        assert_int_equal(b.n_cas, 2);
        assert_string_equal(b.cas[0].name, "ca");
        assert_string_equal(b.cas[1].name, "front-proxy-ca");
        for (size_t i = 0; i < b.n_certs; i++)
                assert_null(strstr(b.certs[i].name, "etcd"));
        scene_done(&s);
        scene_done(&x);
}

static void test_rows_external_ca(void **state) {
        _cleanup_(pki_expiration_info_done) struct pki_expiration_info a = {}, b = {}, c = {};
        struct timespec now;
        struct scene s = {};
        (void) state;

        /* The CA's certificate without its key, its certificates sound: every row it signs says yes. */
        scene_make(&s, false);
        now = (struct timespec){s.made + 86400, 0};
        remove_file(&s, "/etc/kubernetes/pki/ca.key");
        assert_int_equal(pki_expiration_info(s.root, &s.spec, &now, &a), 0);
        for (size_t i = 0; i < a.n_certs; i++) {
                assert_int_equal(a.certs[i].error, 0);
                assert_int_equal(a.certs[i].externally_managed, streq(a.certs[i].ca_name, "ca"));
        }
        assert_true(row(&a, "ca")->externally_managed);
        assert_false(row(&a, "etcd-ca")->externally_managed);

        /* kubeadm checks the apiserver certificate against it at now: expired, it stops there. */
        now.tv_sec = s.made + 400 * 86400;
        assert_int_equal(pki_expiration_info(s.root, &s.spec, &now, &b), 0);
        assert_int_equal(row(&b, "admin.conf")->error, -EBADMSG);
        assert_non_null(
                strstr(row(&b, "admin.conf")->problem,
                       "certificate API server is not signed by corresponding CA: certificate has expired"));
        assert_true(row(&b, "admin.conf")->read); /* the times are still known */
        assert_int_equal(row(&b, "etcd-peer")->error, 0);

        /* ... and without the apiserver's key it cannot check at all. */
        remove_file(&s, "/etc/kubernetes/pki/apiserver.key");
        assert_int_equal(pki_expiration_info(s.root, &s.spec, NULL, &c), 0);
        assert_int_equal(row(&c, "ca")->error, -ENOENT);
        assert_non_null(strstr(row(&c, "ca")->problem, "failure loading key for apiserver"));
        assert_int_equal(row(&c, "front-proxy-client")->error, 0);
        scene_done(&s);
}

static void test_rows_unreadable(void **state) {
        _cleanup_(pki_expiration_info_done) struct pki_expiration_info a = {};
        struct scene s = {};
        (void) state;

        scene_make(&s, false);
        unit_write(s.root, "/etc/kubernetes/pki/etcd/peer.crt", "not a certificate\n");
        unit_write(s.root, "/etc/kubernetes/scheduler.conf", "apiVersion: v1\nkind: Config\n");
        assert_int_equal(pki_expiration_info(s.root, &s.spec, NULL, &a), 0);
        assert_int_equal(row(&a, "etcd-peer")->error, -EBADMSG);
        assert_false(row(&a, "etcd-peer")->read);
        assert_non_null(
                strstr(row(&a, "etcd-peer")->problem, "failed to load existing certificate etcd/peer"));
        assert_true(row(&a, "scheduler.conf")->error < 0);
        assert_non_null(strstr(row(&a, "scheduler.conf")->problem, "/etc/kubernetes/scheduler.conf"));
        assert_int_equal(row(&a, "admin.conf")->error, 0);
        scene_done(&s);
}

static void test_nearest(void **state) {
        struct pki_expiration certs[] = {
                {.name = (char *) "a", .read = true, .not_after = 300},
                {.name = (char *) "b", .missing = true},
                {.name = (char *) "c", .read = true, .not_after = 200},
        };
        struct pki_expiration cas[] = {
                {.name = (char *) "ca", .read = true, .not_after = 250},
                {.name = (char *) "etcd-ca", .read = true, .not_after = 100},
        };
        struct pki_expiration_info info = {certs, 3, cas, 2};
        (void) state;

        assert_string_equal(pki_expiration_nearest(&info, false)->name, "etcd-ca");
        assert_string_equal(pki_expiration_nearest(&info, true)->name, "etcd-ca");
        cas[1].read = false;
        assert_string_equal(pki_expiration_nearest(&info, false)->name, "c");
        assert_string_equal(pki_expiration_nearest(&info, true)->name, "ca");
        cas[0].missing = true;
        cas[0].read = false;
        assert_null(pki_expiration_nearest(&info, true));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_human_duration_apimachinery),
                cmocka_unit_test(test_human_duration_boundaries),
                cmocka_unit_test(test_human_duration_kubeadm),
                cmocka_unit_test(test_residual_seconds),
                cmocka_unit_test(test_kubeadm_date),
                cmocka_unit_test(test_rows_of_an_init_node),
                cmocka_unit_test(test_rows_missing_and_external_etcd),
                cmocka_unit_test(test_rows_external_ca),
                cmocka_unit_test(test_rows_unreadable),
                cmocka_unit_test(test_nearest),
        };
        return cmocka_run_group_tests_name("pki-expiry", tests, NULL, NULL);
}
