/* SPDX-License-Identifier: Apache-2.0 */
/* pki/certlist + kubeconfig, and firstboot/pki-config: the node's certificate set from its configuration. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/config/pki-config.h"
#include "pki/cert.h"
#include "pki/certlist.h"
#include "pki/kubeconfig.h"
#include "tests/unit/unit.h"

static void spec_for(struct pki_node_spec *s, enum pki_role role) {
        assert_int_equal(pki_node_spec_init(s), 0);
        s->role = role;
        s->node_name = strdup("cp-1");
        s->advertise_address = strdup("192.168.10.11");
        s->control_plane_endpoint = strdup("api.example.test");
        s->key_type = PKI_KEY_ECDSA_P256; /* fast */
        assert_int_equal(strv_extend(&s->apiserver_cert_sans, "10.0.0.5"), 0);
}

static const struct pki_result *find(const struct pki_report *r, const char *name) {
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->results[i].name, name))
                        return &r->results[i];
        return NULL;
}

static X509 *load(const char *root, const char *path) {
        _cleanup_free_ char *pem = NULL;
        X509 *x = NULL;
        size_t len;
        assert_int_equal(read_file(root, path, 0, &pem, &len), 0);
        assert_int_equal(pki_cert_from_pem(pem, len, &x), 0);
        return x;
}

static void test_urls(void **state) {
        _cleanup_(pki_node_spec_done) struct pki_node_spec s = {};
        (void) state;
        spec_for(&s, PKI_ROLE_INIT);
        char *u = NULL;
        assert_int_equal(pki_control_plane_url(&s, &u), 0);
        assert_string_equal(u, "https://api.example.test:6443");
        free(u);
        free(s.control_plane_endpoint);
        s.control_plane_endpoint = strdup("[fd00::10]:8443");
        assert_int_equal(pki_control_plane_url(&s, &u), 0);
        assert_string_equal(u, "https://[fd00::10]:8443");
        free(u);
        free(s.control_plane_endpoint);
        s.control_plane_endpoint = strdup("fd00::10");
        assert_int_equal(pki_control_plane_url(&s, &u), 0);
        assert_string_equal(u, "https://[fd00::10]:6443");
        free(u);
        free(s.control_plane_endpoint);
        s.control_plane_endpoint = strdup("bad_host:1");
        assert_int_equal(pki_control_plane_url(&s, &u), -EINVAL);
        free(s.control_plane_endpoint);
        s.control_plane_endpoint = NULL;
        assert_int_equal(pki_control_plane_url(&s, &u), 0);
        assert_string_equal(u, "https://192.168.10.11:6443");
        free(u);
        assert_int_equal(pki_local_api_url(&s, &u), 0);
        assert_string_equal(u, "https://192.168.10.11:6443");
        free(u);

        static const char *const svc[][2] = {{"10.96.0.0/12", "10.96.0.1"},
                                             {"10.96.0.0/12,fd00::/108", "10.96.0.1"},
                                             {"10.96.7.9/12", "10.96.0.1"},
                                             {"fd00:1::/64", "fd00:1::1"},
                                             {"172.16.255.0/24", "172.16.255.1"}};
        for (size_t i = 0; i < ELEMENTSOF(svc); i++) {
                assert_int_equal(pki_service_first_ip(svc[i][0], &u), 0);
                assert_string_equal(u, svc[i][1]);
                free(u);
        }
        assert_int_equal(pki_service_first_ip("10.96.0.0", &u), -EINVAL);
        assert_int_equal(pki_service_first_ip("10.96.0.0/33", &u), -EINVAL);
}

static void test_init_then_rerun(void **state) {
        _cleanup_(pki_node_spec_done) struct pki_node_spec s = {};
        _cleanup_(pki_report_done) struct pki_report r1 = {}, r2 = {};
        _cleanup_free_ char *root = unit_mkdtemp();
        (void) state;

        spec_for(&s, PKI_ROLE_INIT);
        assert_int_equal(pki_node_ensure(root, &s, &r1), 0);
        assert_int_equal(r1.n, 16);
        for (size_t i = 0; i < r1.n; i++)
                assert_int_equal(r1.results[i].action, PKI_ACTION_CREATED);

        /* Modes as kubeadm: keys and kubeconfigs 0600, certificates 0644, sa.pub 0600. */
        static const char *const modes[][2] = {{"/etc/kubernetes/pki/ca.key", "600"},
                                               {"/etc/kubernetes/pki/ca.crt", "644"},
                                               {"/etc/kubernetes/pki/etcd/peer.crt", "644"},
                                               {"/etc/kubernetes/pki/sa.pub", "600"},
                                               {"/etc/kubernetes/admin.conf", "600"}};
        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                _cleanup_free_ char *full = NULL;
                struct stat st;
                char m[8];
                assert_int_equal(root_path(root, modes[i][0], &full), 0);
                assert_int_equal(stat(full, &st), 0);
                snprintf(m, sizeof(m), "%o", st.st_mode & 0777);
                assert_string_equal(m, modes[i][1]);
        }

        /* Validity: backdated 5 minutes; one year and ten years after now. */
        _cleanup_(X509_freep) X509 *ca = load(root, "/etc/kubernetes/pki/ca.crt");
        _cleanup_(X509_freep) X509 *api = load(root, "/etc/kubernetes/pki/apiserver.crt");
        time_t now = time(NULL), na;
        assert_int_equal(pki_cert_not_after(ca, &na), 0);
        assert_true(labs((long) (na - now - 87600L * 3600)) < 60);
        assert_int_equal(pki_cert_not_after(api, &na), 0);
        assert_true(labs((long) (na - now - 8760L * 3600)) < 60);
        assert_int_equal(pki_cert_check_time(api, now - 240), 0);
        assert_int_equal(pki_cert_check_time(api, now - 360), -EAGAIN);

        /* Re-run: all kept. */
        assert_int_equal(pki_node_ensure(root, &s, &r2), 0);
        assert_int_equal(r2.n, 16);
        for (size_t i = 0; i < r2.n; i++)
                assert_int_equal(r2.results[i].action, PKI_ACTION_KEPT);
        unit_rm_rf(root);
}

static void test_plan(void **state) {
        _cleanup_(pki_node_spec_done) struct pki_node_spec s = {};
        _cleanup_(pki_report_done) struct pki_report p1 = {}, r1 = {}, p2 = {}, p3 = {}, p4 = {};
        _cleanup_free_ char *root = unit_mkdtemp(), *before = NULL, *after = NULL;
        (void) state;

        spec_for(&s, PKI_ROLE_INIT);
        /* Nothing there: everything would be created, and nothing is. */
        assert_int_equal(pki_node_plan(root, &s, &p1), 0);
        assert_int_equal(p1.n, 16);
        for (size_t i = 0; i < p1.n; i++)
                assert_int_equal(p1.results[i].action, PKI_ACTION_CREATED);
        assert_int_equal(path_exists(root, "/etc/kubernetes"), -ENOENT);

        assert_int_equal(pki_node_ensure(root, &s, &r1), 0);
        assert_int_equal(read_file(root, "/etc/kubernetes/pki/apiserver.crt", 0, &before, NULL), 0);
        assert_int_equal(pki_node_plan(root, &s, &p2), 0);
        for (size_t i = 0; i < p2.n; i++)
                assert_int_equal(p2.results[i].action, PKI_ACTION_KEPT);

        /* A new SAN: the apiserver certificate would be replaced, but is not. */
        assert_int_equal(strv_extend(&s.apiserver_cert_sans, "plan.example.test"), 0);
        assert_int_equal(pki_node_plan(root, &s, &p3), 0);
        assert_int_equal(find(&p3, "apiserver")->action, PKI_ACTION_REPLACED);
        assert_int_equal(find(&p3, "admin.conf")->action, PKI_ACTION_KEPT);
        assert_int_equal(read_file(root, "/etc/kubernetes/pki/apiserver.crt", 0, &after, NULL), 0);
        assert_string_equal(before, after);

        /* Without the CA, its certificates would be replaced; the old kubeconfigs stop it, as for real. */
        assert_int_equal(unlink_file(root, "/etc/kubernetes/pki/ca.crt"), 0);
        assert_int_equal(pki_node_plan(root, &s, &p4), -EEXIST);
        assert_int_equal(find(&p4, "ca")->action, PKI_ACTION_CREATED);
        assert_int_equal(find(&p4, "apiserver")->action, PKI_ACTION_REPLACED);
        assert_string_equal(find(&p4, "apiserver")->reason, "its CA is new");
        assert_int_equal(find(&p4, "etcd-server")->action, PKI_ACTION_KEPT);
        assert_non_null(strstr(p4.error, "admin.conf"));
        assert_int_equal(path_exists(root, "/etc/kubernetes/pki/ca.crt"), -ENOENT);
        unit_rm_rf(root);
}

static void test_replacements(void **state) {
        _cleanup_(pki_node_spec_done) struct pki_node_spec s = {};
        _cleanup_(pki_report_done) struct pki_report r1 = {}, r2 = {}, r3 = {};
        _cleanup_free_ char *root = unit_mkdtemp();
        _cleanup_free_ char *ca_before = NULL, *ca_after = NULL;
        (void) state;

        spec_for(&s, PKI_ROLE_INIT);
        assert_int_equal(pki_node_ensure(root, &s, &r1), 0);
        assert_int_equal(read_file(root, "/etc/kubernetes/pki/ca.crt", 0, &ca_before, NULL), 0);

        /* A new SAN: the apiserver certificate is replaced, nothing else. */
        assert_int_equal(strv_extend(&s.apiserver_cert_sans, "new.example.test"), 0);
        assert_int_equal(pki_node_ensure(root, &s, &r2), 0);
        assert_int_equal(find(&r2, "apiserver")->action, PKI_ACTION_REPLACED);
        assert_string_equal(find(&r2, "apiserver")->reason, "a DNS name is missing from its SANs");
        assert_int_equal(find(&r2, "etcd-server")->action, PKI_ACTION_KEPT);
        assert_int_equal(find(&r2, "admin.conf")->action, PKI_ACTION_KEPT);

        /* A leaf's key swapped for another: replaced; a missing kubeconfig: created. */
        _cleanup_free_ char *other_key = NULL;
        size_t len;
        assert_int_equal(read_file(root, "/etc/kubernetes/pki/front-proxy-client.key", 0, &other_key, &len),
                         0);
        assert_int_equal(write_file_atomic(root, "/etc/kubernetes/pki/apiserver-etcd-client.key", other_key,
                                           len, 0600, 0),
                         0);
        assert_int_equal(unlink_file(root, "/etc/kubernetes/scheduler.conf"), 0);
        assert_int_equal(pki_node_ensure(root, &s, &r3), 0);
        assert_int_equal(find(&r3, "apiserver-etcd-client")->action, PKI_ACTION_REPLACED);
        assert_string_equal(find(&r3, "apiserver-etcd-client")->reason,
                            "the key does not match the certificate");
        assert_int_equal(find(&r3, "scheduler.conf")->action, PKI_ACTION_CREATED);
        assert_int_equal(find(&r3, "ca")->action, PKI_ACTION_KEPT);

        /* The CA itself never changed. */
        assert_int_equal(read_file(root, "/etc/kubernetes/pki/ca.crt", 0, &ca_after, NULL), 0);
        assert_string_equal(ca_before, ca_after);

        /* 'pki check' sees it all well; a mismatched key shows. */
        struct pki_check *checks = NULL;
        size_t n = 0, bad = 0;
        assert_int_equal(pki_node_check(root, &s, &checks, &n), 0);
        assert_int_equal(n, 15);
        for (size_t i = 0; i < n; i++) {
                assert_true(checks[i].present);
                if (checks[i].problem)
                        fail_msg("%s: %s", checks[i].name, checks[i].problem);
        }
        pki_checks_free(checks, n);
        assert_int_equal(
                write_file_atomic(root, "/etc/kubernetes/pki/apiserver.key", other_key, len, 0600, 0), 0);
        assert_int_equal(pki_node_check(root, &s, &checks, &n), 0);
        for (size_t i = 0; i < n; i++)
                if (checks[i].problem) {
                        assert_string_equal(checks[i].name, "apiserver");
                        assert_int_equal(checks[i].key_ok, 0);
                        bad++;
                }
        assert_int_equal(bad, 1);
        pki_checks_free(checks, n);

        /* A new cluster CA under old kubeconfigs: refused, as kubeadm does, and nothing overwritten. */
        _cleanup_(pki_report_done) struct pki_report r4 = {};
        _cleanup_free_ char *admin_before = NULL, *admin_after = NULL;
        assert_int_equal(read_file(root, "/etc/kubernetes/admin.conf", 0, &admin_before, NULL), 0);
        assert_int_equal(unlink_file(root, "/etc/kubernetes/pki/ca.crt"), 0);
        assert_int_equal(unlink_file(root, "/etc/kubernetes/pki/ca.key"), 0);
        assert_int_equal(pki_node_ensure(root, &s, &r4), -EEXIST);
        assert_non_null(strstr(r4.error, "admin.conf' exists with a different CA"));
        assert_int_equal(read_file(root, "/etc/kubernetes/admin.conf", 0, &admin_after, NULL), 0);
        assert_string_equal(admin_before, admin_after);
        unit_rm_rf(root);
}

static void test_user_ca_and_external(void **state) {
        _cleanup_(pki_node_spec_done) struct pki_node_spec s = {}, s2 = {};
        _cleanup_(pki_report_done) struct pki_report r1 = {}, r2 = {}, r3 = {};
        _cleanup_free_ char *root = unit_mkdtemp(), *root2 = unit_mkdtemp();
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL;
        _cleanup_free_ char *cpem = NULL;
        char *kpem = NULL;
        (void) state;

        /* A CA given as PEM in the configuration, external etcd. */
        spec_for(&s, PKI_ROLE_INIT);
        s.external_etcd = true;
        assert_int_equal(pki_key_generate(PKI_KEY_RSA_2048, &k), 0);
        struct pki_cert_spec cs = {.cn = "my-own-ca",
                                   .ca = true,
                                   .not_before = time(NULL) - 60,
                                   .not_after = time(NULL) + 86400};
        assert_int_equal(pki_cert_create(&cs, k, NULL, NULL, &ca), 0);
        assert_int_equal(pki_cert_to_pem(ca, &cpem, NULL), 0);
        assert_int_equal(pki_key_to_pem(k, &kpem, NULL), 0);
        s.ca_cert_pem[PKI_CA_KUBERNETES] = strdup(cpem);
        s.ca_key_pem[PKI_CA_KUBERNETES] = kpem;
        assert_int_equal(pki_node_ensure(root, &s, &r1), 0);
        assert_int_equal(r1.n, 11); /* no etcd CA, etcd certs, apiserver-etcd-client */
        assert_null(find(&r1, "etcd-ca"));
        assert_null(find(&r1, "apiserver-etcd-client"));
        assert_string_equal(find(&r1, "ca")->reason, "from the configuration");
        _cleanup_(X509_freep) X509 *api = load(root, "/etc/kubernetes/pki/apiserver.crt");
        assert_int_equal(pki_cert_issued_by(api, ca), 0);
        assert_int_equal(path_exists(root, "/etc/kubernetes/pki/etcd/ca.crt"), -ENOENT);

        /* External CA mode: no ca.key, everything present is kept; something missing is an error. */
        assert_int_equal(unlink_file(root, "/etc/kubernetes/pki/ca.key"), 0);
        free(s.ca_cert_pem[PKI_CA_KUBERNETES]);
        s.ca_cert_pem[PKI_CA_KUBERNETES] = NULL;
        assert_int_equal(pki_node_ensure(root, &s, &r2), 0);
        assert_int_equal(find(&r2, "apiserver")->action, PKI_ACTION_KEPT);
        assert_int_equal(unlink_file(root, "/etc/kubernetes/pki/apiserver.crt"), 0);
        assert_int_equal(pki_node_ensure(root, &s, &r3), -ENOKEY);
        assert_non_null(strstr(r3.error, "external CA mode"));

        /* A control-plane joiner never makes CAs. */
        _cleanup_(pki_report_done) struct pki_report r4 = {};
        spec_for(&s2, PKI_ROLE_CONTROL_PLANE);
        assert_int_equal(pki_node_ensure(root2, &s2, &r4), -ENOENT);
        assert_non_null(strstr(r4.error, "decrypt-certs"));
        assert_int_equal(path_exists(root2, "/etc/kubernetes/pki/ca.crt"), -ENOENT);
        unit_rm_rf(root);
        unit_rm_rf(root2);
}

static void test_join_and_worker(void **state) {
        _cleanup_(pki_node_spec_done) struct pki_node_spec s = {}, j = {}, w = {};
        _cleanup_(pki_report_done) struct pki_report r1 = {}, r2 = {}, r3 = {};
        _cleanup_free_ char *root = unit_mkdtemp();
        (void) state;

        spec_for(&s, PKI_ROLE_INIT);
        assert_int_equal(pki_node_ensure(root, &s, &r1), 0);
        /* Keep what a joiner gets from the Secret; drop the rest. */
        static const char *const drop[] = {"apiserver.crt",  "apiserver.key", "etcd/server.crt",
                                           "etcd/peer.key",  "../admin.conf", "../super-admin.conf",
                                           "../kubelet.conf"};
        for (size_t i = 0; i < ELEMENTSOF(drop); i++) {
                _cleanup_free_ char *p = strdupf("/etc/kubernetes/pki/%s", drop[i]);
                if (startswith(drop[i], "../")) {
                        free(p);
                        p = strdupf("/etc/kubernetes/%s", drop[i] + 3);
                }
                assert_int_equal(unlink_file(root, p), 0);
        }
        spec_for(&j, PKI_ROLE_CONTROL_PLANE);
        free(j.node_name);
        j.node_name = strdup("cp-2");
        free(j.advertise_address);
        j.advertise_address = strdup("192.168.10.12");
        assert_int_equal(pki_node_ensure(root, &j, &r2), 0);
        assert_int_equal(r2.n, 14); /* 3 CAs, 7 leaves, sa, 3 kubeconfigs */
        assert_null(find(&r2, "super-admin.conf"));
        assert_null(find(&r2, "kubelet.conf"));
        assert_int_equal(find(&r2, "ca")->action, PKI_ACTION_KEPT);
        assert_int_equal(find(&r2, "sa")->action, PKI_ACTION_KEPT);
        assert_int_equal(find(&r2, "apiserver")->action, PKI_ACTION_CREATED);
        /* cp-1's etcd server certificate names cp-1: issued anew for cp-2. */
        assert_int_equal(find(&r2, "etcd-server")->action, PKI_ACTION_REPLACED);
        assert_int_equal(find(&r2, "etcd-peer")->action, PKI_ACTION_REPLACED);
        assert_int_equal(path_exists(root, "/etc/kubernetes/super-admin.conf"), -ENOENT);

        spec_for(&w, PKI_ROLE_WORKER);
        assert_int_equal(pki_node_ensure(root, &w, &r3), 0);
        assert_int_equal(r3.n, 0);
        unit_rm_rf(root);
}

static void test_kubeconfig(void **state) {
        _cleanup_erase_ char *yaml = NULL;
        struct pki_kubeconfig k = {};
        (void) state;

        assert_int_equal(pki_kubeconfig_render("https://10.0.0.1:6443", "kubernetes", "system:node:cp-1",
                                               "CA\n", "CERT\n", "KEY\n", &yaml),
                         0);
        assert_non_null(strstr(yaml, "current-context: system:node:cp-1@kubernetes\n"));
        assert_non_null(strstr(yaml, "preferences: {}\n"));
        assert_int_equal(pki_kubeconfig_parse(yaml, strlen(yaml), &k), 0);
        assert_string_equal(k.server, "https://10.0.0.1:6443");
        assert_string_equal(k.ca_pem, "CA\n");
        assert_string_equal(k.cert_pem, "CERT\n");
        assert_string_equal(k.key_pem, "KEY\n");
        pki_kubeconfig_done(&k);

        static const char kubelet[] =
                "apiVersion: v1\nclusters:\n- cluster:\n    server: https://x:6443\n"
                "  name: default-cluster\ncontexts:\n- context:\n    cluster: default-cluster\n"
                "    user: default-auth\n  name: default-context\n"
                "current-context: default-context\nkind: Config\nusers:\n- name: default-auth\n"
                "  user:\n    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n"
                "    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n";
        assert_int_equal(pki_kubeconfig_parse(kubelet, strlen(kubelet), &k), 0);
        assert_string_equal(k.cert_file, "/var/lib/kubelet/pki/kubelet-client-current.pem");
        assert_null(k.cert_pem);
        pki_kubeconfig_done(&k);
        /* Names that YAML would read as something else come out quoted and read back as written. */
        static const char *const names[][2] = {{"on", "system:node:x"},
                                               {"a: b", "we\"ird\\one"},
                                               {"#c", "tab\there"},
                                               {"1.30", "kubernetes-admin"},
                                               {" \"", "trailing "}};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_erase_ char *y = NULL;
                _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
                _cleanup_free_ char *ctx = strdupf("%s@%s", names[i][1], names[i][0]);
                assert_int_equal(pki_kubeconfig_render("https://[fd00::1]:6443", names[i][0], names[i][1],
                                                       "CA\n", "CERT\n", "KEY\n", &y),
                                 0);
                assert_int_equal(yaml_parse_documents(y, strlen(y), &docs, NULL), 0);
                const cJSON *d = cJSON_GetArrayItem(docs, 0);
                assert_string_equal(json_get_string(cJSON_GetArrayItem(json_get(d, "clusters"), 0), "name"),
                                    names[i][0]);
                assert_string_equal(json_get_string(cJSON_GetArrayItem(json_get(d, "users"), 0), "name"),
                                    names[i][1]);
                assert_string_equal(json_get_string(d, "current-context"), ctx);
                assert_int_equal(pki_kubeconfig_parse(y, strlen(y), &k), 0);
                assert_string_equal(k.server, "https://[fd00::1]:6443");
                assert_string_equal(k.key_pem, "KEY\n");
                pki_kubeconfig_done(&k);
        }

        /* cluster-info's kubeconfig, as the bootstrap signer signs it. */
        static const char cluster_info[] =
                "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: "
                "Q0EK\n    server: https://10.0.0.1:6443\n  name: \"\"\ncontexts: null\n"
                "current-context: \"\"\nkind: Config\npreferences: {}\nusers: null\n";
        assert_int_equal(pki_kubeconfig_parse(cluster_info, strlen(cluster_info), &k), 0);
        assert_string_equal(k.server, "https://10.0.0.1:6443");
        assert_string_equal(k.ca_pem, "CA\n");
        assert_null(k.cert_pem);
        pki_kubeconfig_done(&k);
        assert_int_equal(pki_kubeconfig_parse("a: b\n", 5, &k), -EBADMSG);
        assert_int_equal(pki_kubeconfig_parse("current-context: [", 18, &k), -EBADMSG);
}

static int write_config(const char *dir, const char *text, char **ret) {
        *ret = strdupf("%s/kubeadm.yaml", dir);
        return write_string_atomic(NULL, *ret, text, 0644, 0);
}

static void test_config(void **state) {
        _cleanup_free_ char *dir = unit_mkdtemp(), *path = NULL;
        struct error why = {};
        (void) state;

        {
                _cleanup_(pki_node_spec_done) struct pki_node_spec s = {};
                assert_int_equal(pki_node_spec_init(&s), 0);
                assert_int_equal(
                        write_config(dir,
                                     "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
                                     "nodeRegistration: {name: cp-a}\nlocalAPIEndpoint: {advertiseAddress: "
                                     "10.1.2.3, "
                                     "bindPort: 7443}\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: "
                                     "ClusterConfiguration\ncontrolPlaneEndpoint: lb:6443\nclusterName: c1\n"
                                     "networking: {serviceSubnet: 10.200.0.0/16, dnsDomain: k8s.test}\n"
                                     "apiServer: {certSANs: [a.test, 1.2.3.4]}\ncertificatesDir: /srv/pki\n"
                                     "etcd: {local: {serverCertSANs: [e.test], peerCertSANs: [p.test]}}\n"
                                     "encryptionAlgorithm: RSA-3072\ncertificateValidityPeriod: 720h\n"
                                     "caCertificateValidityPeriod: 43800h\n---\napiVersion: "
                                     "kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
                                     &path),
                        0);
                assert_int_equal(fb_pki_config_load(path, NULL, NULL, &s, &why), 0);
                assert_int_equal(s.role, PKI_ROLE_INIT);
                assert_string_equal(s.node_name, "cp-a");
                assert_string_equal(s.advertise_address, "10.1.2.3");
                assert_int_equal(s.bind_port, 7443);
                assert_string_equal(s.control_plane_endpoint, "lb:6443");
                assert_string_equal(s.cluster_name, "c1");
                assert_string_equal(s.service_subnet, "10.200.0.0/16");
                assert_string_equal(s.dns_domain, "k8s.test");
                assert_string_equal(s.apiserver_cert_sans[1], "1.2.3.4");
                assert_string_equal(s.etcd_peer_cert_sans[0], "p.test");
                assert_string_equal(s.cert_dir, "/srv/pki");
                assert_int_equal(s.key_type, PKI_KEY_RSA_3072);
                assert_int_equal(s.cert_validity_s, 720u * 3600u);
                assert_int_equal(s.ca_validity_s, 43800u * 3600u);
                assert_false(s.external_etcd);
                free(path);
        }
        {
                _cleanup_(pki_node_spec_done) struct pki_node_spec s = {};
                assert_int_equal(pki_node_spec_init(&s), 0);
                assert_int_equal(
                        write_config(
                                dir,
                                "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\n"
                                "nodeRegistration: {name: cp-b}\ncontrolPlane:\n  localAPIEndpoint:\n"
                                "    advertiseAddress: 10.1.2.4\n---\napiVersion: kubeadm.k8s.io/v1beta3\n"
                                "kind: ClusterConfiguration\nfeatureGates: {PublicKeysECDSA: true}\n"
                                "etcd:\n  external:\n    endpoints: [https://e:2379]\n"
                                "    caFile: /etc/etcd/ca.crt\n    certFile: /etc/etcd/c.crt\n"
                                "    keyFile: /etc/etcd/c.key\n",
                                &path),
                        0);
                assert_int_equal(fb_pki_config_load(path, NULL, NULL, &s, &why), 0);
                assert_int_equal(s.role, PKI_ROLE_CONTROL_PLANE);
                assert_string_equal(s.advertise_address, "10.1.2.4");
                assert_int_equal(s.key_type, PKI_KEY_ECDSA_P256);
                assert_true(s.external_etcd);
                assert_string_equal(s.external_etcd_key_file, "/etc/etcd/c.key");
                free(path);
        }
        {
                _cleanup_(pki_node_spec_done) struct pki_node_spec s = {};
                assert_int_equal(pki_node_spec_init(&s), 0);
                assert_int_equal(write_config(dir,
                                              "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n"
                                              "nodeRegistration: {name: w-1}\n",
                                              &path),
                                 0);
                assert_int_equal(fb_pki_config_load(path, NULL, NULL, &s, &why), 0);
                assert_int_equal(s.role, PKI_ROLE_WORKER);
                assert_int_equal(fb_pki_config_load(path, NULL, "bogus", &s, &why), -EINVAL);
                assert_non_null(strstr(why.message, "--role"));
                free(path);
        }
        static const char *const bad[][2] = {
                {"apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n", "not supported"},
                {"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nencryptionAlgorithm: "
                 "DSA\n",
                 "encryptionAlgorithm"},
                {"apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nencryptionAlgorithm: "
                 "RSA-2048\n",
                 "v1beta4"},
                {"apiVersion: kubeadm.k8s.io/v1beta4\nkind: "
                 "ClusterConfiguration\ncertificateValidityPeriod: 1y\n",
                 "certificateValidityPeriod"},
                {"apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint: "
                 "{advertiseAddress: "
                 "nope}\n",
                 "not an IP"},
                {"apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n---\napiVersion: "
                 "kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n",
                 "--role"},
                {"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer: {certSANs: "
                 "x}\n",
                 "certSANs"},
                {"apiVersion: v1\nkind: ConfigMap\n", "holds no"},
                {"a: [", "line"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(pki_node_spec_done) struct pki_node_spec s = {};
                assert_int_equal(pki_node_spec_init(&s), 0);
                assert_int_equal(write_config(dir, bad[i][0], &path), 0);
                assert_int_equal(fb_pki_config_load(path, NULL, NULL, &s, &why), -EINVAL);
                if (!strstr(why.message, bad[i][1]))
                        fail_msg("case %zu: '%s' lacks '%s'", i, why.message, bad[i][1]);
                free(path);
        }
        path = NULL;
        unit_rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_urls),
                cmocka_unit_test(test_init_then_rerun),
                cmocka_unit_test(test_plan),
                cmocka_unit_test(test_replacements),
                cmocka_unit_test(test_user_ca_and_external),
                cmocka_unit_test(test_join_and_worker),
                cmocka_unit_test(test_kubeconfig),
                cmocka_unit_test(test_config),
        };
        return cmocka_run_group_tests_name("pki-certlist", tests, NULL, NULL);
}
