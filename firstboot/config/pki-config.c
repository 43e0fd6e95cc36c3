/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/config/config.h"
#include "firstboot/config/pki-config.h"
#include "manifests/versions.h"

#define CONFIG_MAX (1024u * 1024u)

static int set_string(char **field, const cJSON *doc, const char *path) {
        const char *v = json_get_scalar_text(doc, path);
        char *copy;
        if (!v || !*v)
                return 0;
        copy = strdup(v);
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int set_list(char ***field, const cJSON *doc, const char *path, struct error *why) {
        const cJSON *l = json_get(doc, path), *i;
        _cleanup_strv_free_ char **out = NULL;

        if (!l || cJSON_IsNull(l))
                return 0;
        if (!cJSON_IsArray(l))
                return error_set(why, -EINVAL, "'%s' must be a list of strings.", path);
        cJSON_ArrayForEach(i, l) {
                const char *v = json_scalar_text(i);
                if (!v)
                        return error_set(why, -EINVAL, "'%s' must be a list of strings.", path);
                if (strv_extend(&out, v) < 0)
                        return -ENOMEM;
        }
        strv_free(*field);
        *field = TAKE_PTR(out);
        return 0;
}

/* kubeadm's default: the address the default route would use. No packet is sent by a UDP connect(). */
static int default_route_address(char **ret) {
        struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(53)}, src = {};
        socklen_t len = sizeof(src);
        char text[INET_ADDRSTRLEN];
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        (void) inet_pton(AF_INET, "192.0.2.1", &dst.sin_addr); /* TEST-NET-1: any routable address does */
        if (connect(fd, (struct sockaddr *) &dst, sizeof(dst)) < 0 ||
            getsockname(fd, (struct sockaddr *) &src, &len) < 0)
                return -errno;
        if (!inet_ntop(AF_INET, &src.sin_addr, text, sizeof(text)))
                return -EINVAL;
        *ret = strdup(text);
        return *ret ? 0 : -ENOMEM;
}

static int default_node_name(char **ret) {
        char host[256];
        if (gethostname(host, sizeof(host)) < 0)
                return -errno;
        host[sizeof(host) - 1] = 0;
        for (char *p = host; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        *ret = strdup(host);
        return *ret ? 0 : -ENOMEM;
}

static int read_bind_port(const cJSON *doc, const char *path, unsigned *port, struct error *why) {
        int64_t v;
        int r = json_get_int64(doc, path, &v);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || v < 1 || v > 65535)
                return error_set(why, -EINVAL, "'%s' must be a port number.", path);
        *port = (unsigned) v;
        return 0;
}

static int read_cluster(const cJSON *doc, bool v1beta3, struct pki_node_spec *s, struct error *why) {
        const char *v;
        int r = 0;

        r = set_string(&s->control_plane_endpoint, doc, "controlPlaneEndpoint");
        if (r >= 0)
                r = set_string(&s->service_subnet, doc, "networking.serviceSubnet");
        if (r >= 0)
                r = set_string(&s->dns_domain, doc, "networking.dnsDomain");
        if (r >= 0)
                r = set_string(&s->cluster_name, doc, "clusterName");
        if (r >= 0)
                r = set_string(&s->cert_dir, doc, "certificatesDir");
        if (r >= 0)
                r = set_list(&s->apiserver_cert_sans, doc, "apiServer.certSANs", why);
        if (r >= 0)
                r = set_list(&s->etcd_server_cert_sans, doc, "etcd.local.serverCertSANs", why);
        if (r >= 0)
                r = set_list(&s->etcd_peer_cert_sans, doc, "etcd.local.peerCertSANs", why);
        if (r < 0)
                return r;
        if (json_get(doc, "etcd.external")) {
                if (json_get(doc, "etcd.local"))
                        return error_set(why, -EINVAL,
                                         "'etcd.local' and 'etcd.external' exclude each other.");
                s->external_etcd = true;
                r = set_string(&s->external_etcd_ca_file, doc, "etcd.external.caFile");
                if (r >= 0)
                        r = set_string(&s->external_etcd_cert_file, doc, "etcd.external.certFile");
                if (r >= 0)
                        r = set_string(&s->external_etcd_key_file, doc, "etcd.external.keyFile");
                if (r < 0)
                        return r;
        }
        if (s->cert_dir && s->cert_dir[0] != '/')
                return error_set(why, -EINVAL, "'certificatesDir' must be an absolute path, not '%s'.",
                                 s->cert_dir);

        if ((v = json_get_scalar_text(doc, "encryptionAlgorithm"))) {
                if (v1beta3)
                        return error_set(
                                why, -EINVAL,
                                "'encryptionAlgorithm' is a v1beta4 field; v1beta3 uses the PublicKeysECDSA feature gate.");
                if (pki_key_type_from_string(v, &s->key_type) < 0)
                        return error_set(
                                why, -EINVAL,
                                "'encryptionAlgorithm' takes RSA-2048, RSA-3072, RSA-4096, ECDSA-P256 or ECDSA-P384, not '%s'.",
                                v);
        }
        bool ecdsa = false;
        if (json_get_bool(doc, "featureGates.PublicKeysECDSA", &ecdsa) >= 0 && ecdsa)
                s->key_type = PKI_KEY_ECDSA_P256;

        static const char *const periods[] = {"certificateValidityPeriod", "caCertificateValidityPeriod"};
        for (size_t i = 0; i < ELEMENTSOF(periods); i++) {
                unsigned long long ms;
                v = json_get_scalar_text(doc, periods[i]);
                if (!v)
                        continue;
                if (fb_parse_duration_ms(v, &ms) < 0 || ms < 1000)
                        return error_set(why, -EINVAL, "'%s' takes a duration such as '8760h', not '%s'.",
                                         periods[i], v);
                *(i == 0 ? &s->cert_validity_s : &s->ca_validity_s) = ms / 1000;
        }
        return 0;
}

/* FirstbootConfiguration.ca: the cluster CA as PEM inline (cert, key) or in node files (certFile, keyFile).
 */
static int read_ca_pem(const char *root, const cJSON *ca, const char *inline_key, const char *file_key,
                       char **ret, struct error *why) {
        const char *v = json_get_string(ca, inline_key), *f = json_get_string(ca, file_key);
        int r;

        if (v)
                return (*ret = strdup(v)) ? 0 : -ENOMEM;
        if (!f)
                return 0;
        r = read_file(root, f, 64 * 1024, ret, NULL);
        if (r < 0)
                return error_set(why, -EINVAL, "FirstbootConfiguration.ca.%s: cannot read '%s': %s.",
                                 file_key, f, strerror(-r));
        return 0;
}

/* Fills *s from the documents (any may be NULL) once the role is set. A FirstbootConfiguration's CA is read
 * from it unless the caller gave the PEMs (ca_cert/ca_key non-NULL: the loaded configuration's). */
static int spec_from_documents(const char *root, const cJSON *init, const cJSON *join, const cJSON *cluster,
                               const cJSON *fb, struct pki_node_spec *s, struct error *why) {
        bool v1beta3;
        int r = 0;

        v1beta3 = cluster && streq(json_get_string(cluster, "apiVersion"), "kubeadm.k8s.io/v1beta3");
        /* The certificate shapes that depend on the minor (kubernetesVersion's default: the newest). */
        _cleanup_free_ char *version = NULL;
        const struct mf_versions *m;
        /* kubernetesVersion: 1.30 reads as a number: its text is what is checked. */
        const char *kv = cluster ? json_scalar_text(json_get(cluster, "kubernetesVersion")) : NULL;
        if (kv) {
                _cleanup_free_ char *bad = NULL;
                r = fb_kubernetes_version_check(kv, &bad);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return error_set(why, -EINVAL, "ClusterConfiguration.kubernetesVersion: %s.", bad);
        }
        if (mf_versions_resolve(kv ?: "stable-1", &version) >= 0 && mf_versions_for(version, &m) >= 0)
                s->kubelet_client_without_org = m->kubelet_api_admin_binding;
        if (cluster && (r = read_cluster(cluster, v1beta3, s, why)) < 0)
                return r;
        if (s->role == PKI_ROLE_INIT && init) {
                r = set_string(&s->node_name, init, "nodeRegistration.name");
                if (r >= 0)
                        r = set_string(&s->advertise_address, init, "localAPIEndpoint.advertiseAddress");
                if (r >= 0)
                        r = read_bind_port(init, "localAPIEndpoint.bindPort", &s->bind_port, why);
        } else if (s->role != PKI_ROLE_INIT && join) {
                r = set_string(&s->node_name, join, "nodeRegistration.name");
                if (r >= 0)
                        r = set_string(&s->advertise_address, join,
                                       "controlPlane.localAPIEndpoint.advertiseAddress");
                if (r >= 0)
                        r = read_bind_port(join, "controlPlane.localAPIEndpoint.bindPort", &s->bind_port,
                                           why);
        }
        if (r < 0)
                return r;

        if (fb && !s->ca_cert_pem[PKI_CA_KUBERNETES] && !s->ca_key_pem[PKI_CA_KUBERNETES]) {
                const cJSON *ca = json_get(fb, "ca");
                r = read_ca_pem(root, ca, "cert", "certFile", &s->ca_cert_pem[PKI_CA_KUBERNETES], why);
                if (r >= 0)
                        r = read_ca_pem(root, ca, "key", "keyFile", &s->ca_key_pem[PKI_CA_KUBERNETES], why);
                if (r < 0)
                        return r;
        }

        if (!s->node_name && (r = default_node_name(&s->node_name)) < 0)
                return error_set(why, r, "nodeRegistration.name is not set and the host name is unknown.");
        if (s->role != PKI_ROLE_WORKER && !s->advertise_address &&
            default_route_address(&s->advertise_address) < 0)
                return error_set(
                        why, -EINVAL,
                        "localAPIEndpoint.advertiseAddress is not set and there is no default route to pick one from.");
        if (s->advertise_address) {
                unsigned char a[16];
                if (inet_pton(AF_INET, s->advertise_address, a) != 1 &&
                    inet_pton(AF_INET6, s->advertise_address, a) != 1)
                        return error_set(why, -EINVAL, "advertiseAddress '%s' is not an IP address.",
                                         s->advertise_address);
        }
        return 0;
}

int fb_pki_config_load(const char *path, const char *root, const char *role_override,
                       struct pki_node_spec *s, struct error *why) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        struct yaml_error yerr = {};
        const cJSON *doc, *init = NULL, *join = NULL, *cluster = NULL, *fb = NULL;
        size_t len;
        int r;

        error_clear(why);
        r = read_file(NULL, path, CONFIG_MAX, &text, &len);
        if (r < 0)
                return error_set(why, r, "Cannot read '%s': %s.", path, strerror(-r));
        r = yaml_parse_documents(text, len, &docs, &yerr);
        if (r < 0)
                return error_set(why, -EINVAL, "'%s' line %u: %s.", path, yerr.line, yerr.message);

        cJSON_ArrayForEach(doc, docs) {
                const char *api = json_get_string(doc, "apiVersion"), *kind = json_get_string(doc, "kind");
                if (!api || !kind)
                        return error_set(why, -EINVAL, "'%s': every document needs apiVersion and kind.",
                                         path);
                if (startswith(api, "kube-firstboot.io/") && streq(kind, "FirstbootConfiguration")) {
                        fb = doc;
                        continue;
                }
                if (!startswith(api, "kubeadm.k8s.io/"))
                        continue; /* KubeletConfiguration and friends: not ours here */
                if (!streq(api, "kubeadm.k8s.io/v1beta4") && !streq(api, "kubeadm.k8s.io/v1beta3"))
                        return error_set(
                                why, -EINVAL,
                                "'%s': %s is not supported; use kubeadm.k8s.io/v1beta4 (or v1beta3).", path,
                                api);
                const cJSON **slot = streq(kind, "InitConfiguration")      ? &init
                                     : streq(kind, "JoinConfiguration")    ? &join
                                     : streq(kind, "ClusterConfiguration") ? &cluster
                                                                           : NULL;
                if (!slot)
                        continue;
                if (*slot)
                        return error_set(why, -EINVAL, "'%s' has two %s documents.", path, kind);
                *slot = doc;
        }

        if (role_override) {
                if (pki_role_from_string(role_override, &s->role) < 0)
                        return error_set(why, -EINVAL,
                                         "--role takes init, control-plane or worker, not '%s'.",
                                         role_override);
        } else if (init && join)
                return error_set(
                        why, -EINVAL,
                        "'%s' has both InitConfiguration and JoinConfiguration: say which with --role.",
                        path);
        else if (join)
                s->role = json_get(join, "controlPlane") && !cJSON_IsNull(json_get(join, "controlPlane"))
                                  ? PKI_ROLE_CONTROL_PLANE
                                  : PKI_ROLE_WORKER;
        else if (init || cluster)
                s->role = PKI_ROLE_INIT;
        else
                return error_set(
                        why, -EINVAL,
                        "'%s' holds no InitConfiguration, ClusterConfiguration or JoinConfiguration.", path);

        return spec_from_documents(root, init, join, cluster, fb, s, why);
}

int fb_pki_spec_from_config(const struct fb_config *c, enum pki_role role, const char *root,
                            const struct fb_cluster_settings *cluster, struct pki_node_spec *s,
                            struct error *why) {
        const struct fb_settings *v = fb_config_settings(c);
        const char *ca_cert = v->firstboot.ca_cert_pem, *ca_key = v->firstboot.ca_key_pem;

        error_clear(why);
        s->role = role;
        if ((ca_cert && !(s->ca_cert_pem[PKI_CA_KUBERNETES] = strdup(ca_cert))) ||
            (ca_key && !(s->ca_key_pem[PKI_CA_KUBERNETES] = strdup(ca_key))))
                return -ENOMEM;
        /* The loaded configuration already read the CA: the documents' FirstbootConfiguration is not read
         * again. */
        return spec_from_documents(
                root, role == PKI_ROLE_INIT ? fb_config_document(c, "InitConfiguration") : NULL,
                role == PKI_ROLE_INIT ? NULL : fb_config_document(c, "JoinConfiguration"),
                cluster ? cluster->document : NULL,
                ca_cert || ca_key ? NULL : fb_config_document(c, "FirstbootConfiguration"), s, why);
}

int fb_pki_spec_from_cluster(const struct fb_cluster_settings *cluster, struct pki_node_spec *s,
                             struct error *why) {
        const cJSON *doc = cluster ? cluster->document : NULL;

        error_clear(why);
        if (!doc)
                return 0;
        return read_cluster(doc, streq(json_get_string(doc, "apiVersion") ?: "", FB_KUBEADM_V1BETA3), s,
                            why);
}
