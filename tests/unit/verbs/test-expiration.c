/* SPDX-License-Identifier: Apache-2.0 */
/* firstboot/verbs/expiration: Go's tabwriter as kubeadm uses it, and the check-expiration text, compared
 * with kubeadm's own output (a transcript) and with tables worked out by hand from kubeadm's rules. */
#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "firstboot/verbs/expiration.h"
#include "tests/unit/unit.h"

static void check_tab(const char *in, unsigned minwidth, unsigned padding, const char *want) {
        _cleanup_free_ char *got = NULL;
        assert_int_equal(cli_tabwriter_format(in, minwidth, padding, &got), 0);
        assert_string_equal(got, want);
}

static void test_tabwriter(void **state) {
        (void) state;
        /* minwidth counts the padding; a line without tabs ends every column block. */
        check_tab("a\tb\tc\naa\tbbb\tc\n\nxxxxxxxxxxxx\ty\n", 10, 3,
                  "a         b         c\n"
                  "aa        bbb       c\n"
                  "\n"
                  "xxxxxxxxxxxx   y\n");
        /* A line whose cell in a column is its last (not tab-terminated) ends that column's block only. */
        check_tab("a\tb\tc\nlonger-cell\td\nx\ty\tz\n", 0, 1,
                  "a           b c\n"
                  "longer-cell d\n"
                  "x           y z\n");
        /* Empty tab-terminated cells are padded like any other: trailing blanks. */
        check_tab("ab\tcd\t\n\t\t\n", 0, 2, "ab  cd  \n        \n");
        /* Widths count characters, not bytes. */
        check_tab("\xc3\xa9\tx\nab\ty\n", 0, 1, "\xc3\xa9  x\nab y\n");
        /* No final newline: the last line is written as it is. */
        check_tab("a\tb", 0, 1, "a b");
        check_tab("", 10, 3, "");
}

/* kubeadm 1.33-era 'kubeadm certs check-expiration' on a cluster made Aug 19, 2025 09:03 UTC, read 5 days
 * later (docs/design/self-healing.md §2.6), byte for byte with its trailing blanks. */
static const char transcript[] =
        "CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\n"
        "admin.conf                 Aug 19, 2026 09:03 UTC   360d            ca                      no      \n"
        "apiserver                  Aug 19, 2026 09:03 UTC   360d            ca                      no      \n"
        "apiserver-etcd-client      Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      \n"
        "apiserver-kubelet-client   Aug 19, 2026 09:03 UTC   360d            ca                      no      \n"
        "controller-manager.conf    Aug 19, 2026 09:03 UTC   360d            ca                      no      \n"
        "etcd-healthcheck-client    Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      \n"
        "etcd-peer                  Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      \n"
        "etcd-server                Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      \n"
        "front-proxy-client         Aug 19, 2026 09:03 UTC   360d            front-proxy-ca          no      \n"
        "scheduler.conf             Aug 19, 2026 09:03 UTC   360d            ca                      no      \n"
        "super-admin.conf           Aug 19, 2026 09:03 UTC   360d            ca                      no      \n"
        "\n"
        "CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED\n"
        "ca                      Aug 17, 2035 09:03 UTC   9y              no      \n"
        "etcd-ca                 Aug 17, 2035 09:03 UTC   9y              no      \n"
        "front-proxy-ca          Aug 17, 2035 09:03 UTC   9y              no      \n";

#define LEAF_NOT_AFTER 1787130210 /* Aug 19, 2026 09:03:30 UTC */
#define CA_NOT_AFTER   2070954210 /* Aug 17, 2035 09:03:30 UTC */
#define NOW            1756026180 /* Aug 24, 2025 09:03:00 UTC */

static struct pki_expiration leaf(const char *name, const char *ca, time_t not_after) {
        return (struct pki_expiration){
                .name = (char *) name, .ca_name = ca, .read = true, .not_after = not_after};
}

static struct pki_expiration missing(const char *name) {
        return (struct pki_expiration){.name = (char *) name, .missing = true};
}

static void test_text_as_kubeadm_printed_it(void **state) {
        struct pki_expiration certs[] = {
                leaf("admin.conf", "ca", LEAF_NOT_AFTER),
                leaf("apiserver", "ca", LEAF_NOT_AFTER),
                leaf("apiserver-etcd-client", "etcd-ca", LEAF_NOT_AFTER),
                leaf("apiserver-kubelet-client", "ca", LEAF_NOT_AFTER),
                leaf("controller-manager.conf", "ca", LEAF_NOT_AFTER),
                leaf("etcd-healthcheck-client", "etcd-ca", LEAF_NOT_AFTER),
                leaf("etcd-peer", "etcd-ca", LEAF_NOT_AFTER),
                leaf("etcd-server", "etcd-ca", LEAF_NOT_AFTER),
                leaf("front-proxy-client", "front-proxy-ca", LEAF_NOT_AFTER),
                leaf("scheduler.conf", "ca", LEAF_NOT_AFTER),
                leaf("super-admin.conf", "ca", LEAF_NOT_AFTER),
        };
        struct pki_expiration cas[] = {
                leaf("ca", NULL, CA_NOT_AFTER),
                leaf("etcd-ca", NULL, CA_NOT_AFTER),
                leaf("front-proxy-ca", NULL, CA_NOT_AFTER),
        };
        struct pki_expiration_info info = {certs, ELEMENTSOF(certs), cas, ELEMENTSOF(cas)};
        struct timespec now = {NOW, 250000000};
        _cleanup_free_ char *text = NULL;
        (void) state;

        assert_int_equal(cli_expiration_text(&info, &now, &text), 0);
        assert_string_equal(text, transcript);
}

/*
 * Worked out from kubeadm's rules: columns are the widest cell + 3 (at least 10), a "!MISSING! <name>" cell
 * widens the first (here "!MISSING! super-admin.conf", 26 + 3 = 29) and its empty cells pad it to the end of
 * the fourth column; the CA table is laid out on its own ("!MISSING! front-proxy-ca", 24 + 3 = 27).
 * EXTERNALLY MANAGED is "%-8v": "yes     ". An expired certificate shows "<invalid>".
 */
static void test_text_missing_expired_external(void **state) {
        struct pki_expiration certs[] = {
                leaf("admin.conf", "ca", LEAF_NOT_AFTER),
                missing("apiserver"),
                leaf("front-proxy-client", "front-proxy-ca", 1754906400), /* Aug 11, 2025 10:00:00 UTC */
                missing("super-admin.conf"),
        };
        struct pki_expiration cas[] = {
                leaf("ca", NULL, CA_NOT_AFTER),
                missing("front-proxy-ca"),
        };
        struct pki_expiration_info info = {certs, ELEMENTSOF(certs), cas, ELEMENTSOF(cas)};
        struct timespec now = {NOW, 0};
        _cleanup_free_ char *text = NULL;
        (void) state;

        certs[0].externally_managed = cas[0].externally_managed = true;
        assert_int_equal(cli_expiration_text(&info, &now, &text), 0);
        assert_string_equal(
                text,
                "CERTIFICATE                  EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\n"
                "admin.conf                   Aug 19, 2026 09:03 UTC   360d            ca                      yes     \n"
                "!MISSING! apiserver                                                                           \n"
                "front-proxy-client           Aug 11, 2025 10:00 UTC   <invalid>       front-proxy-ca          no      \n"
                "!MISSING! super-admin.conf                                                                    \n"
                "\n"
                "CERTIFICATE AUTHORITY      EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED\n"
                "ca                         Aug 17, 2035 09:03 UTC   9y              yes     \n"
                "!MISSING! front-proxy-ca                                            \n");
}

/* Nothing on the node (a machine before its first boot): every row missing, the headers set the widths. */
static void test_text_nothing_there(void **state) {
        struct pki_expiration certs[] = {missing("admin.conf")};
        struct pki_expiration cas[] = {missing("ca")};
        struct pki_expiration_info info = {certs, 1, cas, 1};
        struct timespec now = {NOW, 0};
        _cleanup_free_ char *text = NULL;
        (void) state;

        assert_int_equal(cli_expiration_text(&info, &now, &text), 0);
        assert_string_equal(
                text,
                "CERTIFICATE            EXPIRES   RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\n"
                "!MISSING! admin.conf                                                     \n"
                "\n"
                "CERTIFICATE AUTHORITY   EXPIRES   RESIDUAL TIME   EXTERNALLY MANAGED\n"
                "!MISSING! ca                                      \n");
}

static void test_text_refuses_unread_rows(void **state) {
        struct pki_expiration certs[] = {{.name = (char *) "apiserver", .error = -EBADMSG}};
        struct pki_expiration_info info = {certs, 1, NULL, 0};
        struct timespec now = {NOW, 0};
        char *text = NULL;
        (void) state;

        assert_int_equal(cli_expiration_text(&info, &now, &text), -EINVAL);
        assert_null(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tabwriter),
                cmocka_unit_test(test_text_as_kubeadm_printed_it),
                cmocka_unit_test(test_text_missing_expired_external),
                cmocka_unit_test(test_text_nothing_there),
                cmocka_unit_test(test_text_refuses_unread_rows),
        };
        return cmocka_run_group_tests_name("verbs-expiration", tests, NULL, NULL);
}
