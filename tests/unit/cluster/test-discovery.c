/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token discovery (firstboot/cluster/discovery.c): the checks of a cluster-info ConfigMap without I/O
 * (JWS, kubeconfig, CA pins), and fb_discover() against a loopback HTTPS server playing the apiserver.
 */
#include <ctype.h>
#include <errno.h>

#include "common/base64.h"
#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "firstboot/cluster/discovery.h"
#include "manifests/objects.h"
#include "pki/token.h"
#include "tests/unit/unit.h"

#define TOKEN_ID     "abcdef"
#define TOKEN_SECRET "0123456789abcdef"
#define TOKEN        TOKEN_ID "." TOKEN_SECRET
#define OTHER_PIN    "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define CLUSTER_INFO "/api/v1/namespaces/kube-public/configmaps/cluster-info"

/* The cluster-info kubeconfig as kubeadm writes it: one unnamed cluster, nothing else. */
static char *cluster_info_kubeconfig(const char *server, const char *ca_pem) {
        _cleanup_free_ char *b64 = base64_encode(ca_pem, strlen(ca_pem));
        assert_non_null(b64);
        char *s = strdupf("apiVersion: v1\n"
                          "clusters:\n"
                          "- cluster:\n"
                          "    certificate-authority-data: %s\n"
                          "    server: %s\n"
                          "  name: \"\"\n"
                          "contexts: null\n"
                          "current-context: \"\"\n"
                          "kind: Config\n"
                          "users: null\n",
                          b64, server);
        assert_non_null(s);
        return s;
}

/* kube-public/cluster-info holding kubeconfig, signed by the bootstrap signer for id with secret
 * (NULL id: no signature). */
static cJSON *cluster_info(const char *kubeconfig, const char *id, const char *secret) {
        cJSON *cm = mf_cluster_info(kubeconfig);
        assert_non_null(cm);
        if (id) {
                _cleanup_free_ char *jws = NULL, *key = strdupf("jws-kubeconfig-%s", id);
                assert_int_equal(pki_jws_sign_detached(kubeconfig, strlen(kubeconfig), id, secret, &jws), 0);
                assert_non_null(cJSON_AddStringToObject(cJSON_GetObjectItem(cm, "data"), key, jws));
        }
        return cm;
}

struct env {
        struct unit_pki pki, other; /* the cluster's CA and server certificate; another CA */
        char *kubeconfig;           /* cluster-info's, naming the cluster's CA */
};

static int setup(void **state) {
        struct env *e = calloc(1, sizeof(*e));
        if (!e)
                return -1;
        unit_pki_make(&e->pki);
        unit_pki_make(&e->other);
        e->kubeconfig = cluster_info_kubeconfig("https://k8s.example.com:6443", e->pki.ca_pem);
        *state = e;
        return 0;
}

static int teardown(void **state) {
        struct env *e = *state;
        unit_pki_done(&e->pki);
        unit_pki_done(&e->other);
        free(e->kubeconfig);
        free(e);
        return 0;
}

/* fb_cluster_info_verify() expecting failure r with a message containing what; *ret untouched. */
static void verify_fails(const cJSON *cm, const char *token, const char *const *pins, int r,
                         const char *what) {
        struct fb_discovery_result res = {.server = (char *) "untouched"};
        struct error why = {};
        assert_int_equal(fb_cluster_info_verify(cm, token, pins, &res, &why), r);
        if (!strstr(why.message, what))
                fail_msg("'%s' does not say '%s'", why.message, what);
        assert_string_equal(res.server, "untouched");
        assert_null(res.ca_pem);
}

/* ---- the checks, without I/O ---- */

static void test_verify_signed_and_pinned(void **state) {
        struct env *e = *state;
        _cleanup_(cJSON_Deletep) cJSON *cm = cluster_info(e->kubeconfig, TOKEN_ID, TOKEN_SECRET);
        _cleanup_(fb_discovery_result_done) struct fb_discovery_result res = {};
        struct error why = {};

        assert_int_equal(
                fb_cluster_info_verify(cm, TOKEN, (const char *const[]){e->pki.ca_pin, NULL}, &res, &why),
                0);
        assert_string_equal(res.server, "https://k8s.example.com:6443");
        assert_string_equal(res.ca_pem, e->pki.ca_pem);
        assert_string_equal(res.ca_hash, e->pki.ca_pin);
        assert_string_equal(res.kubeconfig, e->kubeconfig);
}

static void test_verify_pins(void **state) {
        struct env *e = *state;
        _cleanup_(cJSON_Deletep) cJSON *cm = cluster_info(e->kubeconfig, TOKEN_ID, TOKEN_SECRET);
        _cleanup_free_ char *upper = strdup(e->pki.ca_pin);
        struct error why = {};

        /* Any one of several pins, in any case. */
        for (char *p = upper; *p; p++)
                *p = (char) toupper((unsigned char) *p);
        {
                _cleanup_(fb_discovery_result_done) struct fb_discovery_result res = {};
                assert_int_equal(fb_cluster_info_verify(cm, TOKEN,
                                                        (const char *const[]){OTHER_PIN, upper, NULL}, &res,
                                                        &why),
                                 0);
                assert_string_equal(res.ca_hash, e->pki.ca_pin);
        }
        /* None matching. */
        _cleanup_free_ char *want =
                strdupf("the cluster CA (%s) matches none of the given CA cert hashes", e->pki.ca_pin);
        verify_fails(cm, TOKEN, (const char *const[]){OTHER_PIN, e->other.ca_pin, NULL}, -EKEYREJECTED,
                     want);

        /* No pin (what unsafeSkipCAVerification allows): any CA, and its pin is reported. */
        {
                _cleanup_(fb_discovery_result_done) struct fb_discovery_result res = {};
                assert_int_equal(fb_cluster_info_verify(cm, TOKEN, NULL, &res, &why), 0);
                assert_string_equal(res.ca_hash, e->pki.ca_pin);
                fb_discovery_result_done(&res);
                assert_int_equal(fb_cluster_info_verify(cm, TOKEN, (const char *const[]){NULL}, &res, &why),
                                 0);
        }
}

static void test_verify_a_bundle_matches_by_any_certificate(void **state) {
        struct env *e = *state;
        _cleanup_free_ char *bundle = strdupf("%s%s", e->other.ca_pem, e->pki.ca_pem);
        _cleanup_free_ char *kc = cluster_info_kubeconfig("https://10.0.0.1:6443", bundle);
        _cleanup_(cJSON_Deletep) cJSON *cm = cluster_info(kc, TOKEN_ID, TOKEN_SECRET);
        _cleanup_(fb_discovery_result_done) struct fb_discovery_result res = {};
        struct error why = {};

        assert_int_equal(
                fb_cluster_info_verify(cm, TOKEN, (const char *const[]){e->pki.ca_pin, NULL}, &res, &why),
                0);
        assert_string_equal(res.ca_pem, bundle);
        assert_string_equal(res.ca_hash, e->other.ca_pin); /* the first certificate's */
}

static void test_verify_signatures(void **state) {
        struct env *e = *state;
        const char *const pins[] = {e->pki.ca_pin, NULL};

        /* Signed with another secret: the token secret is wrong. */
        _cleanup_(cJSON_Deletep) cJSON *wrong = cluster_info(e->kubeconfig, TOKEN_ID, "ffffffffffffffff");
        verify_fails(
                wrong, TOKEN, pins, -EKEYREJECTED,
                "the signature of cluster-info for token id 'abcdef' does not match: the token secret is wrong");

        /* A signature over other bytes than the kubeconfig now holds. */
        _cleanup_(cJSON_Deletep) cJSON *tampered = cluster_info(e->kubeconfig, TOKEN_ID, TOKEN_SECRET);
        _cleanup_free_ char *other = cluster_info_kubeconfig("https://evil.example.com:6443", e->pki.ca_pem);
        assert_int_equal(json_set_string(cJSON_GetObjectItem(tampered, "data"), "kubeconfig", other), 0);
        verify_fails(tampered, TOKEN, pins, -EKEYREJECTED, "the token secret is wrong");

        /* Another token's signature, copied under this token's key: the kid differs. */
        _cleanup_(cJSON_Deletep) cJSON *copied = cluster_info(e->kubeconfig, "ghijkl", TOKEN_SECRET);
        cJSON *data = cJSON_GetObjectItem(copied, "data");
        assert_int_equal(json_set_string(data, "jws-kubeconfig-" TOKEN_ID,
                                         json_get_string(data, "jws-kubeconfig-ghijkl")),
                         0);
        verify_fails(copied, TOKEN, pins, -EKEYREJECTED, "does not match");

        /* A signature that is not a string. */
        _cleanup_(cJSON_Deletep) cJSON *number = cluster_info(e->kubeconfig, NULL, NULL);
        assert_non_null(
                cJSON_AddNumberToObject(cJSON_GetObjectItem(number, "data"), "jws-kubeconfig-" TOKEN_ID, 1));
        verify_fails(number, TOKEN, pins, -EKEYREJECTED, "does not match");

        /* None for this token id (only another one's). */
        _cleanup_(cJSON_Deletep) cJSON *unsigned_cm = cluster_info(e->kubeconfig, "ghijkl", TOKEN_SECRET);
        verify_fails(
                unsigned_cm, TOKEN, pins, -ENOKEY,
                "token id 'abcdef' is invalid for this cluster or has expired: cluster-info carries no signature for it");
}

static void test_verify_bad_tokens(void **state) {
        struct env *e = *state;
        _cleanup_(cJSON_Deletep) cJSON *cm = cluster_info(e->kubeconfig, TOKEN_ID, TOKEN_SECRET);
        static const char *const bad[] = {NULL,
                                          "",
                                          "abcdef",
                                          "abcdef.0123456789abcde",
                                          "ABCDEF.0123456789abcdef",
                                          "abcdef:0123456789abcdef",
                                          "abcdef.0123456789abcdef0"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                verify_fails(cm, bad[i], NULL, -EINVAL,
                             "the token is not of the form [a-z0-9]{6}.[a-z0-9]{16}");
}

static void test_verify_malformed_kubeconfigs(void **state) {
        struct env *e = *state;
        _cleanup_free_ char *b64 = base64_encode(e->pki.ca_pem, strlen(e->pki.ca_pem));
        _cleanup_free_ char *no_server = strdupf(
                "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: %s\n  name: \"\"\n"
                "kind: Config\n",
                b64);
        _cleanup_free_ char *not_a_cert =
                cluster_info_kubeconfig("https://10.0.0.1:6443", "not a certificate\n");
        const struct {
                const char *kubeconfig, *what;
        } cases[] = {
                {"}{ not yaml", "cluster-info's kubeconfig has no server or CA"},
                {"apiVersion: v1\nkind: Config\nclusters: []\n",
                 "cluster-info's kubeconfig has no server or CA"},
                {"apiVersion: v1\nkind: Config\nclusters:\n- cluster: {server: 'https://10.0.0.1:6443'}\n  name: \"\"\n",
                 "cluster-info's kubeconfig has no server or CA"},
                {"apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n"
                 "    certificate-authority-data: '!!!not base64'\n  name: \"\"\n",
                 "cluster-info's kubeconfig has no server or CA"},
                {no_server, "cluster-info's kubeconfig has no server or CA"},
                {not_a_cert, "cluster-info's kubeconfig holds no CA certificate"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(cJSON_Deletep) cJSON *cm =
                        cluster_info(cases[i].kubeconfig, TOKEN_ID, TOKEN_SECRET);
                verify_fails(cm, TOKEN, NULL, -EBADMSG, cases[i].what);
        }
        /* No kubeconfig at all, and no data. */
        _cleanup_(cJSON_Deletep) cJSON *empty =
                cJSON_Parse("{\"data\": {\"jws-kubeconfig-abcdef\": \"x..y\"}}");
        verify_fails(empty, TOKEN, NULL, -EBADMSG, "cluster-info holds no kubeconfig");
        _cleanup_(cJSON_Deletep) cJSON *nodata = cJSON_Parse("{\"metadata\": {}}");
        verify_fails(nodata, TOKEN, NULL, -EBADMSG, "cluster-info holds no kubeconfig");
}

/* ---- fb_discover over loopback ---- */

/* The apiserver's answers: cluster-info as first (first read) and later (every later read); NULL: 404. */
struct apiserver {
        char *first, *later;
};

static void respond(void *userdata, unsigned no, const char *method, const char *path, int *ret_status,
                    char **ret_body) {
        struct apiserver *a = userdata;
        const char *body = no == 0 ? a->first : a->later;
        if (!streq(method, "GET") || !streq(path, CLUSTER_INFO) || !body) {
                *ret_status = 404;
                *ret_body = strdup("{\"kind\": \"Status\", \"code\": 404}");
                return;
        }
        *ret_status = 200;
        *ret_body = strdup(body);
}

static void apiserver_done(struct apiserver *a) {
        free(a->first);
        free(a->later);
}

/* An apiserver on 127.0.0.1 with e's server certificate whose cluster-info names ca_pem and is signed for
 * TOKEN with secret; *ret_endpoint is its host:port. */
static struct unit_server *apiserver_start(struct env *e, struct apiserver *a, const char *ca_pem,
                                           const char *secret, char **ret_endpoint) {
        struct unit_server *s = unit_server_start("127.0.0.1", e->pki.cert_pem, e->pki.key_pem, respond, a);
        _cleanup_free_ char *server = strdupf("https://127.0.0.1:%u", unit_server_port(s));
        _cleanup_free_ char *kc = cluster_info_kubeconfig(server, ca_pem);
        _cleanup_(cJSON_Deletep) cJSON *cm = cluster_info(kc, TOKEN_ID, secret);
        a->first = cJSON_PrintUnformatted(cm);
        a->later = strdup(a->first);
        *ret_endpoint = strdupf("127.0.0.1:%u", unit_server_port(s));
        return s;
}

static int discover(const char *endpoint, const char *token, const char *const *pins, bool unsafe,
                    struct fb_discovery_result *ret, struct error *why) {
        struct fb_discovery_opts o = {.endpoint = endpoint,
                                      .token = token,
                                      .ca_cert_hashes = pins,
                                      .unsafe_skip_ca_verification = unsafe,
                                      .timeout_ms = 600,
                                      .interval_ms = 100};
        return fb_discover(&o, ret, why);
}

static void test_discover(void **state) {
        struct env *e = *state;
        _cleanup_(apiserver_done) struct apiserver a = {};
        _cleanup_free_ char *endpoint = NULL;
        _cleanup_(unit_server_stopp) struct unit_server *s =
                apiserver_start(e, &a, e->pki.ca_pem, TOKEN_SECRET, &endpoint);
        struct error why = {};
        {
                _cleanup_(fb_discovery_result_done) struct fb_discovery_result res = {};
                assert_int_equal(discover(endpoint, TOKEN, (const char *const[]){e->pki.ca_pin, NULL}, false,
                                          &res, &why),
                                 0);
                _cleanup_free_ char *server = strdupf("https://%s", endpoint);
                assert_string_equal(res.server, server);
                assert_string_equal(res.ca_pem, e->pki.ca_pem);
                assert_string_equal(res.ca_hash, e->pki.ca_pin);
                assert_int_equal(unit_server_count(s), 2); /* unverified, then verified */
        }
        /* unsafeSkipCAVerification without a pin. */
        {
                _cleanup_(fb_discovery_result_done) struct fb_discovery_result res = {};
                assert_int_equal(discover(endpoint, TOKEN, NULL, true, &res, &why), 0);
                assert_string_equal(res.ca_hash, e->pki.ca_pin);
        }
        /* A pin that does not match, even with unsafeSkipCAVerification: the pin given is checked. */
        struct fb_discovery_result res = {};
        assert_int_equal(discover(endpoint, TOKEN, (const char *const[]){OTHER_PIN, NULL}, true, &res, &why),
                         -EKEYREJECTED);
        assert_non_null(strstr(why.message, "matches none of the given CA cert hashes"));
        assert_null(res.server);
}

static void test_discover_refuses_before_any_request(void **state) {
        struct env *e = *state;
        _cleanup_(apiserver_done) struct apiserver a = {};
        _cleanup_free_ char *endpoint = NULL;
        _cleanup_(unit_server_stopp) struct unit_server *s =
                apiserver_start(e, &a, e->pki.ca_pem, TOKEN_SECRET, &endpoint);
        const char *const pins[] = {e->pki.ca_pin, NULL};
        const struct {
                const char *endpoint, *token;
                const char *const *pins;
                bool unsafe;
                const char *what;
        } cases[] = {
                {endpoint, "abcdef", pins, false, "the token is not of the form"},
                {endpoint, NULL, pins, false, "the token is not of the form"},
                {endpoint, TOKEN, (const char *const[]){"sha256:12", NULL}, false,
                 "'sha256:12' is not a CA cert hash of the form sha256:<64 hex digits>"},
                {endpoint, TOKEN, (const char *const[]){OTHER_PIN "!", NULL}, false,
                 "is not a CA cert hash"},
                {endpoint, TOKEN,
                 (const char *const[]){"md5:" TOKEN_SECRET TOKEN_SECRET TOKEN_SECRET TOKEN_SECRET, NULL},
                 true, "a CA cert hash (not shown: it looks like a secret"},
                {endpoint, TOKEN, NULL, false,
                 "token discovery without a CA cert hash trusts whoever answers: give one, or set unsafeSkipCAVerification"},
                {endpoint, TOKEN, (const char *const[]){NULL}, false, "without a CA cert hash"},
                {"127.0.0.1", TOKEN, pins, false, "the endpoint '127.0.0.1' is not host:port"},
                {"127.0.0.1:0", TOKEN, pins, false, "is not host:port"},
                {NULL, TOKEN, pins, false, "the endpoint '' is not host:port"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct fb_discovery_result res = {};
                struct error why = {};
                assert_int_equal(discover(cases[i].endpoint, cases[i].token, cases[i].pins, cases[i].unsafe,
                                          &res, &why),
                                 -EINVAL);
                if (!strstr(why.message, cases[i].what))
                        fail_msg("case %zu: '%s' does not say '%s'", i, why.message, cases[i].what);
                assert_null(res.server);
        }
        assert_int_equal(unit_server_count(s), 0);
}

static void test_discover_failures_from_the_cluster(void **state) {
        struct env *e = *state;
        const char *const pins[] = {e->pki.ca_pin, NULL};
        struct error why = {};

        /* A wrong secret. */
        {
                _cleanup_(apiserver_done) struct apiserver a = {};
                _cleanup_free_ char *endpoint = NULL;
                _cleanup_(unit_server_stopp) struct unit_server *s =
                        apiserver_start(e, &a, e->pki.ca_pem, "ffffffffffffffff", &endpoint);
                struct fb_discovery_result res = {};
                assert_int_equal(discover(endpoint, TOKEN, pins, false, &res, &why), -EKEYREJECTED);
                assert_non_null(strstr(why.message, "the token secret is wrong"));
        }
        /* No signature for this token id, until the timeout: polled, then refused. */
        {
                _cleanup_(apiserver_done) struct apiserver a = {};
                _cleanup_free_ char *endpoint = NULL;
                _cleanup_(unit_server_stopp) struct unit_server *s =
                        apiserver_start(e, &a, e->pki.ca_pem, TOKEN_SECRET, &endpoint);
                struct fb_discovery_result res = {};
                assert_int_equal(discover(endpoint, "ghijkl." TOKEN_SECRET, pins, false, &res, &why),
                                 -ENOKEY);
                assert_non_null(
                        strstr(why.message, "token id 'ghijkl' is invalid for this cluster or has expired"));
                assert_true(unit_server_count(s) >= 2);
        }
        /* cluster-info changed between the unverified and the verified read. */
        {
                _cleanup_(apiserver_done) struct apiserver a = {};
                _cleanup_free_ char *endpoint = NULL;
                _cleanup_(unit_server_stopp) struct unit_server *s =
                        apiserver_start(e, &a, e->pki.ca_pem, TOKEN_SECRET, &endpoint);
                _cleanup_free_ char *kc = cluster_info_kubeconfig("https://10.9.9.9:6443", e->pki.ca_pem);
                _cleanup_(cJSON_Deletep) cJSON *cm = cluster_info(kc, TOKEN_ID, TOKEN_SECRET);
                free(a.later);
                a.later = cJSON_PrintUnformatted(cm);
                struct fb_discovery_result res = {};
                assert_int_equal(discover(endpoint, TOKEN, pins, false, &res, &why), -EBADMSG);
                assert_string_equal(why.message,
                                    "cluster-info changed between the unverified and the verified read");
                assert_int_equal(unit_server_count(s), 2);
        }
        /* A server whose certificate the CA in cluster-info did not issue (someone in the middle who
         * copied a genuine cluster-info): the verified read fails. */
        {
                _cleanup_(apiserver_done) struct apiserver a = {};
                _cleanup_free_ char *endpoint = NULL;
                _cleanup_(unit_server_stopp) struct unit_server *s =
                        apiserver_start(e, &a, e->other.ca_pem, TOKEN_SECRET, &endpoint);
                struct fb_discovery_result res = {};
                assert_true(discover(endpoint, TOKEN, (const char *const[]){e->other.ca_pin, NULL}, false,
                                     &res, &why) < 0);
                assert_non_null(strstr(why.message, "cannot read cluster-info over verified TLS"));
                assert_null(res.server);
        }
        /* Nobody at the endpoint. */
        {
                char *endpoint;
                {
                        _cleanup_(unit_server_stopp) struct unit_server *gone =
                                unit_server_start("127.0.0.1", NULL, NULL, NULL, NULL);
                        endpoint = strdupf("127.0.0.1:%u", unit_server_port(gone));
                }
                struct fb_discovery_result res = {};
                assert_true(discover(endpoint, TOKEN, pins, false, &res, &why) < 0);
                _cleanup_free_ char *want = strdupf("cannot read cluster-info from https://%s", endpoint);
                assert_non_null(strstr(why.message, want));
                free(endpoint);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_verify_signed_and_pinned, setup, teardown),
                cmocka_unit_test_setup_teardown(test_verify_pins, setup, teardown),
                cmocka_unit_test_setup_teardown(test_verify_a_bundle_matches_by_any_certificate, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_verify_signatures, setup, teardown),
                cmocka_unit_test_setup_teardown(test_verify_bad_tokens, setup, teardown),
                cmocka_unit_test_setup_teardown(test_verify_malformed_kubeconfigs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_discover, setup, teardown),
                cmocka_unit_test_setup_teardown(test_discover_refuses_before_any_request, setup, teardown),
                cmocka_unit_test_setup_teardown(test_discover_failures_from_the_cluster, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
