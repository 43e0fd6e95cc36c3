/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "pki/cert.h"
#include "pki/certlist.h"
#include "pki/encoding.h"
#include "pki/kubeconfig.h"

#define CERT_BACKDATE_S (5 * 60)

static const char *const role_names[_PKI_ROLE_MAX] = {
        [PKI_ROLE_INIT] = "init",
        [PKI_ROLE_CONTROL_PLANE] = "control-plane",
        [PKI_ROLE_WORKER] = "worker",
};

const char *pki_role_to_string(enum pki_role r) {
        return r >= 0 && r < _PKI_ROLE_MAX ? role_names[r] : NULL;
}

int pki_role_from_string(const char *s, enum pki_role *ret) {
        for (int i = 0; i < _PKI_ROLE_MAX; i++)
                if (s && streq(s, role_names[i])) {
                        *ret = (enum pki_role) i;
                        return 0;
                }
        return -EINVAL;
}

const char *pki_action_to_string(enum pki_action a) {
        switch (a) {
        case PKI_ACTION_CREATED:
                return "created";
        case PKI_ACTION_KEPT:
                return "kept";
        case PKI_ACTION_REPLACED:
                return "replaced";
        }
        return "?";
}

int pki_node_spec_init(struct pki_node_spec *s) {
        *s = (struct pki_node_spec){
                .role = PKI_ROLE_INIT,
                .bind_port = 6443,
                .service_subnet = strdup("10.96.0.0/12"),
                .dns_domain = strdup("cluster.local"),
                .cluster_name = strdup("kubernetes"),
                .cert_dir = strdup("/etc/kubernetes/pki"),
                .kubeconfig_dir = strdup("/etc/kubernetes"),
                .key_type = PKI_KEY_RSA_2048,
                .cert_validity_s = 8760u * 3600u,
                .ca_validity_s = 87600u * 3600u,
        };
        if (!s->service_subnet || !s->dns_domain || !s->cluster_name || !s->cert_dir || !s->kubeconfig_dir) {
                pki_node_spec_done(s);
                return -ENOMEM;
        }
        return 0;
}

void pki_node_spec_done(struct pki_node_spec *s) {
        free(s->node_name);
        free(s->advertise_address);
        free(s->control_plane_endpoint);
        free(s->service_subnet);
        free(s->dns_domain);
        free(s->cluster_name);
        strv_free(s->apiserver_cert_sans);
        strv_free(s->etcd_server_cert_sans);
        strv_free(s->etcd_peer_cert_sans);
        free(s->external_etcd_ca_file);
        free(s->external_etcd_cert_file);
        free(s->external_etcd_key_file);
        free(s->cert_dir);
        free(s->kubeconfig_dir);
        for (int i = 0; i < _PKI_CA_MAX; i++) {
                free(s->ca_cert_pem[i]);
                erase_and_free(s->ca_key_pem[i]);
        }
        *s = (struct pki_node_spec){};
}

void pki_report_done(struct pki_report *r) {
        for (size_t i = 0; i < r->n; i++) {
                free(r->results[i].name);
                free(r->results[i].path);
        }
        free(r->results);
        r->results = NULL;
        r->n = 0;
}

_printf_(3, 4) static int fail(struct pki_report *rep, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(rep->error, sizeof(rep->error), fmt, ap);
        va_end(ap);
        log_debug("%s", rep->error);
        return r < 0 ? r : -r;
}

static int report_add(struct pki_report *rep, const char *name, const char *path, enum pki_action a,
                      const char *reason) {
        _cleanup_free_ char *n = strdup(name), *p = strdup(path);
        struct pki_result *t;

        if (!n || !p)
                return -ENOMEM;
        t = realloc(rep->results, sizeof(*t) * (rep->n + 1));
        if (!t)
                return -ENOMEM;
        rep->results = t;
        t[rep->n++] =
                (struct pki_result){.name = TAKE_PTR(n), .path = TAKE_PTR(p), .action = a, .reason = reason};
        return 0;
}

/* ---- addresses ---- */

static bool is_ip(const char *s) {
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* RFC 1123 subdomain, optionally with a leading "*." (kubeadm accepts both in certSANs). */
static bool is_dns_name(const char *s) {
        size_t label = 0;
        if (startswith(s, "*."))
                s += 2;
        if (isempty(s) || strlen(s) > 253)
                return false;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (label == 0 || p[-1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) ||
                      (*p == '-' && label > 0)))
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0 && s[strlen(s) - 1] != '-';
}

/* host and optional port of "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address. */
static int split_host_port(const char *hp, char **ret_host, unsigned *ret_port) {
        const char *colon;
        unsigned port = 0;
        char *host;

        if (isempty(hp))
                return -EINVAL;
        if (hp[0] == '[') {
                const char *end = strchr(hp, ']');
                if (!end)
                        return -EINVAL;
                host = strndup(hp + 1, (size_t) (end - hp - 1));
                colon = end[1] == ':' ? end + 1 : NULL;
                if (!colon && end[1])
                        return free(host), -EINVAL;
        } else if ((colon = strchr(hp, ':')) && strchr(colon + 1, ':')) {
                host = strdup(hp); /* a bare IPv6 address */
                colon = NULL;
        } else
                host = colon ? strndup(hp, (size_t) (colon - hp)) : strdup(hp);
        if (!host)
                return -ENOMEM;
        if (colon && (safe_atou(colon + 1, &port) < 0 || port == 0 || port > 65535)) {
                free(host);
                return -EINVAL;
        }
        if (isempty(host) || (!is_ip(host) && !is_dns_name(host))) {
                free(host);
                return -EINVAL;
        }
        *ret_host = host;
        *ret_port = port;
        return 0;
}

static char *url_for(const char *host, unsigned port) {
        return strchr(host, ':') ? strdupf("https://[%s]:%u", host, port)
                                 : strdupf("https://%s:%u", host, port);
}

int pki_local_api_url(const struct pki_node_spec *s, char **ret) {
        if (isempty(s->advertise_address) || !is_ip(s->advertise_address))
                return -EINVAL;
        *ret = url_for(s->advertise_address, s->bind_port);
        return *ret ? 0 : -ENOMEM;
}

int pki_control_plane_url(const struct pki_node_spec *s, char **ret) {
        _cleanup_free_ char *host = NULL;
        unsigned port;
        int r;

        if (isempty(s->control_plane_endpoint))
                return pki_local_api_url(s, ret);
        r = split_host_port(s->control_plane_endpoint, &host, &port);
        if (r < 0)
                return r;
        *ret = url_for(host, port ?: s->bind_port);
        return *ret ? 0 : -ENOMEM;
}

int pki_service_first_ip(const char *subnets, char **ret) {
        _cleanup_free_ char *first = strndup(subnets ?: "", strcspn(subnets ?: "", ","));
        unsigned char a[16];
        char text[INET6_ADDRSTRLEN];
        unsigned bits;
        int family, len;
        char *slash;

        if (!first)
                return -ENOMEM;
        slash = strchr(first, '/');
        if (!slash || safe_atou(slash + 1, &bits) < 0)
                return -EINVAL;
        *slash = 0;
        family = strchr(first, ':') ? AF_INET6 : AF_INET;
        len = family == AF_INET ? 4 : 16;
        if (inet_pton(family, first, a) != 1 || bits > (unsigned) len * 8 || bits == (unsigned) len * 8)
                return -EINVAL;
        /* Network address, then plus one. */
        for (int i = 0; i < len; i++) {
                int keep = (int) bits - 8 * i;
                if (keep <= 0)
                        a[i] = 0;
                else if (keep < 8)
                        a[i] &= (unsigned char) (0xff << (8 - keep));
        }
        for (int i = len - 1; i >= 0 && ++a[i] == 0; i--)
                ;
        if (!inet_ntop(family, a, text, sizeof(text)))
                return -EINVAL;
        *ret = strdup(text);
        return *ret ? 0 : -ENOMEM;
}

/* ---- the certificate list ---- */

enum kind {
        KIND_CA,
        KIND_LEAF,
};

enum sans {
        SANS_NONE,
        SANS_APISERVER,
        SANS_ETCD_SERVER,
        SANS_ETCD_PEER,
};

struct cert_def {
        const char *name; /* kubeadm's name for it */
        const char *base; /* path below the cert dir, without .crt/.key */
        enum pki_ca ca;   /* the CA it is, or that signs it */
        enum kind kind;
        const char *cn; /* NULL: the node name */
        const char *org;
        unsigned eku;
        enum sans sans;
        bool etcd; /* only with local etcd */
};

/* phases/certs GetDefaultCertList(), in its order. */
static const struct cert_def certs[] = {
        {"ca", "ca", PKI_CA_KUBERNETES, KIND_CA, "kubernetes", NULL, 0, SANS_NONE, false},
        {"apiserver", "apiserver", PKI_CA_KUBERNETES, KIND_LEAF, "kube-apiserver", NULL, PKI_EKU_SERVER_AUTH,
         SANS_APISERVER, false},
        {"apiserver-kubelet-client", "apiserver-kubelet-client", PKI_CA_KUBERNETES, KIND_LEAF,
         "kube-apiserver-kubelet-client", "kubeadm:cluster-admins", PKI_EKU_CLIENT_AUTH, SANS_NONE, false},
        {"front-proxy-ca", "front-proxy-ca", PKI_CA_FRONT_PROXY, KIND_CA, "front-proxy-ca", NULL, 0,
         SANS_NONE, false},
        {"front-proxy-client", "front-proxy-client", PKI_CA_FRONT_PROXY, KIND_LEAF, "front-proxy-client",
         NULL, PKI_EKU_CLIENT_AUTH, SANS_NONE, false},
        {"etcd-ca", "etcd/ca", PKI_CA_ETCD, KIND_CA, "etcd-ca", NULL, 0, SANS_NONE, true},
        {"etcd-server", "etcd/server", PKI_CA_ETCD, KIND_LEAF, NULL, NULL,
         PKI_EKU_SERVER_AUTH | PKI_EKU_CLIENT_AUTH, SANS_ETCD_SERVER, true},
        {"etcd-peer", "etcd/peer", PKI_CA_ETCD, KIND_LEAF, NULL, NULL,
         PKI_EKU_SERVER_AUTH | PKI_EKU_CLIENT_AUTH, SANS_ETCD_PEER, true},
        {"etcd-healthcheck-client", "etcd/healthcheck-client", PKI_CA_ETCD, KIND_LEAF,
         "kube-etcd-healthcheck-client", NULL, PKI_EKU_CLIENT_AUTH, SANS_NONE, true},
        {"apiserver-etcd-client", "apiserver-etcd-client", PKI_CA_ETCD, KIND_LEAF,
         "kube-apiserver-etcd-client", NULL, PKI_EKU_CLIENT_AUTH, SANS_NONE, true},
};

struct kubeconfig_def {
        const char *file;
        const char *user; /* NULL: system:node:<node name> */
        const char *org;
        bool local;     /* the local API endpoint rather than the control-plane endpoint */
        bool init_only; /* not on control-plane joiners */
};

/* phases/kubeconfig, in kubeadm's order. kubelet.conf uses the local endpoint (ControlPlaneKubeletLocalMode,
 * on by default since 1.33). */
static const struct kubeconfig_def kubeconfigs[] = {
        {"admin.conf", "kubernetes-admin", "kubeadm:cluster-admins", false, false},
        {"super-admin.conf", "kubernetes-super-admin", "system:masters", false, true},
        {"kubelet.conf", NULL, "system:nodes", true, true},
        {"controller-manager.conf", "system:kube-controller-manager", NULL, true, false},
        {"scheduler.conf", "system:kube-scheduler", NULL, true, false},
};

struct ca_state {
        X509 *cert;
        EVP_PKEY *key; /* NULL: external CA mode */
        char *pem;
};

struct ctx {
        const char *root;
        const struct pki_node_spec *spec;
        struct pki_report *rep;
        time_t now;
        bool dry;              /* report only: no key generated, nothing written */
        struct write_set *set; /* every file of this run, put in place together at the end */
        struct ca_state ca[_PKI_CA_MAX];
};

static void ctx_done(struct ctx *c) {
        for (int i = 0; i < _PKI_CA_MAX; i++) {
                X509_free(c->ca[i].cert);
                EVP_PKEY_free(c->ca[i].key);
                free(c->ca[i].pem);
        }
}

static char *cert_path(const struct pki_node_spec *s, const char *base, const char *ext) {
        return strdupf("%s/%s.%s", s->cert_dir, base, ext);
}

/* Reads a file under root: 0, -ENOENT, or another error. */
static int read_pki_file(const struct ctx *c, const char *path, char **ret, size_t *ret_len) {
        return read_file(c->root, path, PKI_FILE_MAX, ret, ret_len);
}

static int load_cert_file(const struct ctx *c, const char *path, X509 **ret) {
        _cleanup_free_ char *pem = NULL;
        size_t len;
        int r = read_pki_file(c, path, &pem, &len);
        if (r < 0)
                return r;
        return pki_cert_from_pem(pem, len, ret);
}

static int load_key_file(const struct ctx *c, const char *path, EVP_PKEY **ret) {
        _cleanup_erase_ char *pem = NULL;
        size_t len;
        int r = read_pki_file(c, path, &pem, &len);
        if (r < 0)
                return r;
        return pki_key_from_pem(pem, len, ret);
}

static int write_key(const struct ctx *c, const char *path, EVP_PKEY *key) {
        _cleanup_erase_ char *pem = NULL;
        size_t len;
        int r = pki_key_to_pem(key, &pem, &len);
        if (r < 0)
                return r;
        return write_set_add(c->set, path, pem, len, 0600);
}

static int write_cert(const struct ctx *c, const char *path, X509 *cert) {
        _cleanup_free_ char *pem = NULL;
        size_t len;
        int r = pki_cert_to_pem(cert, &pem, &len);
        if (r < 0)
                return r;
        return write_set_add(c->set, path, pem, len, 0644);
}

/* A file that could not be read at all (not a parse failure): its path and the cause. */
static bool read_failure(int r) {
        return r != -EBADMSG && r != -EINVAL && r != -ENOMEM && r != -ENOENT;
}

/* A write of the set failed: the file and the cause; nothing of this run stays (the set rolls back). */
static int write_failed(const struct ctx *c, int r) {
        const char *p = c->set ? write_set_failed_path(c->set) : NULL;
        if (r == -ENOMEM || !p)
                return r;
        return fail(c->rep, r, "Cannot write '%s': %s; no file of this run was left.", p, strerror(-r));
}

static bool wants_etcd_certs(const struct pki_node_spec *s) {
        return !s->external_etcd;
}

/* SAN lists for a certificate; both strv's owned by the caller. */
static int sans_for(const struct ctx *c, enum sans which, char ***ret_dns, char ***ret_ips) {
        const struct pki_node_spec *s = c->spec;
        _cleanup_strv_free_ char **dns = NULL, **ips = NULL;
        char *const *extra = NULL;
        int r = 0;

        if (which == SANS_NONE)
                return 0;
        if (isempty(s->node_name))
                return -EINVAL;
        if (isempty(s->advertise_address) || !is_ip(s->advertise_address))
                return -EINVAL;
        if (which == SANS_APISERVER) {
                _cleanup_free_ char *svc = NULL, *host = NULL, *svc_domain = NULL;
                unsigned port;
                r = pki_service_first_ip(s->service_subnet, &svc);
                if (r < 0)
                        return r;
                svc_domain = strdupf("kubernetes.default.svc.%s", s->dns_domain);
                if (!svc_domain)
                        return -ENOMEM;
                const char *d[] = {s->node_name, "kubernetes", "kubernetes.default",
                                   "kubernetes.default.svc", svc_domain};
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(d); i++)
                        r = strv_extend(&dns, d[i]);
                if (r >= 0)
                        r = strv_extend(&ips, svc);
                if (r >= 0)
                        r = strv_extend(&ips, s->advertise_address);
                if (r >= 0 && !isempty(s->control_plane_endpoint)) {
                        r = split_host_port(s->control_plane_endpoint, &host, &port);
                        if (r >= 0)
                                r = strv_extend(is_ip(host) ? &ips : &dns, host);
                }
                extra = s->apiserver_cert_sans;
        } else {
                const char *d[] = {s->node_name, "localhost"};
                const char *i4[] = {s->advertise_address, "127.0.0.1", "::1"};
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(d); i++)
                        r = strv_extend(&dns, d[i]);
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(i4); i++)
                        r = strv_extend(&ips, i4[i]);
                extra = which == SANS_ETCD_SERVER ? s->etcd_server_cert_sans : s->etcd_peer_cert_sans;
        }
        /* kubeadm's appendSANsToAltNames: IPs, then DNS names and wildcards; anything else is skipped. */
        for (char *const *e = extra; r >= 0 && e && *e; e++) {
                if (is_ip(*e))
                        r = strv_extend(&ips, *e);
                else if (is_dns_name(*e))
                        r = strv_extend(&dns, *e);
                else
                        log_debug("'%s' is neither an IP address nor a DNS name: not added to the SANs.",
                                  *e);
        }
        if (r < 0)
                return r;
        *ret_dns = TAKE_PTR(dns);
        *ret_ips = TAKE_PTR(ips);
        return 0;
}

static void spec_times(const struct ctx *c, bool ca, struct pki_cert_spec *cs) {
        cs->not_before = c->now - CERT_BACKDATE_S;
        cs->not_after = c->now + (time_t) (ca ? c->spec->ca_validity_s : c->spec->cert_validity_s);
}

/* ---- CAs ---- */

/* A CA from disk or from the configuration: used as it is, never replaced, so it must be sound. */
static int check_ca(struct ctx *c, const char *crt, const char *key, X509 *cert, EVP_PKEY *pkey) {
        if (!pki_cert_is_ca(cert))
                return fail(c->rep, -EINVAL, "'%s' is not a CA certificate.", crt);
        if (pki_cert_check_time(cert, c->now) < 0)
                return fail(c->rep, -ESTALE, "The CA certificate '%s' is expired or not yet valid.", crt);
        if (pkey && !pki_key_public_equal(pkey, X509_get0_pubkey(cert)))
                return fail(c->rep, -EINVAL, "'%s' does not belong to the certificate '%s'.", key, crt);
        return 0;
}

static int ensure_ca(struct ctx *c, const struct cert_def *d) {
        _cleanup_free_ char *crt = cert_path(c->spec, d->base, "crt"),
                            *key = cert_path(c->spec, d->base, "key");
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        struct ca_state *st = &c->ca[d->ca];
        enum pki_action action = PKI_ACTION_CREATED;
        const char *note = NULL;
        int r;

        if (!crt || !key)
                return -ENOMEM;
        r = load_cert_file(c, crt, &cert);
        if (r == -ENOENT && c->spec->ca_cert_pem[d->ca]) {
                /* Given in the configuration: written as the node's CA. */
                const char *cpem = c->spec->ca_cert_pem[d->ca], *kpem = c->spec->ca_key_pem[d->ca];
                r = pki_cert_from_pem(cpem, strlen(cpem), &cert);
                if (r < 0)
                        return fail(c->rep, r, "The %s certificate given in the configuration is not PEM.",
                                    d->name);
                if (kpem && (r = pki_key_from_pem(kpem, strlen(kpem), &pkey)) < 0)
                        return fail(c->rep, r,
                                    "The %s key given in the configuration is not a PEM private key.",
                                    d->name);
                r = check_ca(c, crt, key, cert, pkey);
                if (r < 0)
                        return r;
                if (!c->dry && pkey && (r = write_key(c, key, pkey)) < 0)
                        return write_failed(c, r);
                if (!c->dry && (r = write_set_add(c->set, crt, cpem, strlen(cpem), 0644)) < 0)
                        return write_failed(c, r);
                note = pkey ? "from the configuration" : "from the configuration, without its key";
        } else if (r == -ENOENT) {
                if (c->spec->role != PKI_ROLE_INIT)
                        return fail(
                                c->rep, -ENOENT,
                                "'%s' is missing. A control-plane joiner gets the shared CAs from the kubeadm-certs Secret (kube-firstboot pki decrypt-certs) or a copy; it never makes its own.",
                                crt);
                if (c->dry) /* a new CA: st stays empty, what it would sign is new too */
                        return report_add(c->rep, d->name, crt, PKI_ACTION_CREATED, NULL);
                r = pki_key_generate(c->spec->key_type, &pkey);
                if (r < 0)
                        return fail(c->rep, r, "Cannot generate the %s key.", d->name);
                struct pki_cert_spec cs = {.cn = d->cn, .ca = true, .dns = (char *[]){(char *) d->cn, NULL}};
                spec_times(c, true, &cs);
                r = pki_cert_create(&cs, pkey, NULL, NULL, &cert);
                if (r < 0)
                        return fail(c->rep, r, "Cannot create the %s certificate.", d->name);
                r = write_key(c, key, pkey);
                if (r >= 0)
                        r = write_cert(c, crt, cert);
                if (r < 0)
                        return write_failed(c, r);
        } else if (r < 0 && read_failure(r))
                return fail(c->rep, r, "Cannot read '%s': %s.", crt, strerror(-r));
        else if (r < 0)
                return fail(
                        c->rep, r,
                        "'%s' is not a readable PEM certificate; a CA is never replaced, fix or remove it.",
                        crt);
        else {
                action = PKI_ACTION_KEPT;
                r = load_key_file(c, key, &pkey);
                if (r < 0 && read_failure(r))
                        return fail(c->rep, r, "Cannot read '%s': %s.", key, strerror(-r));
                if (r < 0 && r != -ENOENT)
                        return fail(c->rep, r,
                                    "'%s' is not a usable private key (RSA or ECDSA, PEM, unencrypted).",
                                    key);
                r = check_ca(c, crt, key, cert, pkey);
                if (r < 0)
                        return r;
                if (!pkey)
                        note = "no CA key: external CA mode, every certificate it signs must exist";
        }

        st->cert = TAKE_PTR(cert);
        st->key = TAKE_PTR(pkey);
        r = pki_cert_to_pem(st->cert, &st->pem, NULL);
        if (r < 0)
                return r;
        return report_add(c->rep, d->name, crt, action, note);
}

/* ---- leaf certificates ---- */

/* Why an existing certificate and key cannot be kept; NULL when they can. */
static const char *leaf_problem(const struct ctx *c, X509 *cert, EVP_PKEY *key, X509 *ca,
                                const struct pki_cert_spec *cs) {
        const char *why = NULL;
        int r;

        if (!pki_key_public_equal(key, X509_get0_pubkey(cert)))
                return "the key does not match the certificate";
        if (pki_cert_issued_by(cert, ca) < 0)
                return "not signed by the current CA";
        r = pki_cert_check_time(cert, c->now);
        if (r == -ESTALE)
                return "expired";
        if (r < 0)
                return "not valid yet";
        if (pki_cert_satisfies(cert, cs, &why) < 0)
                return why;
        return NULL;
}

static int issue(struct ctx *c, const char *what, const struct pki_cert_spec *cs, enum pki_ca ca,
                 EVP_PKEY **ret_key, X509 **ret_cert) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        int r;

        if (!c->ca[ca].key)
                return fail(c->rep, -ENOKEY,
                            "%s must be issued, but its CA has no key on this node (external CA mode).",
                            what);
        if (!ret_key) /* dry run: only whether it could be */
                return 0;
        r = pki_key_generate(c->spec->key_type, &key);
        if (r < 0)
                return fail(c->rep, r, "Cannot generate a key for %s.", what);
        r = pki_cert_create(cs, key, c->ca[ca].cert, c->ca[ca].key, ret_cert);
        if (r < 0)
                return fail(c->rep, r, "Cannot create the certificate for %s.", what);
        *ret_key = TAKE_PTR(key);
        return 0;
}

static int ensure_leaf(struct ctx *c, const struct cert_def *d) {
        _cleanup_free_ char *crt = cert_path(c->spec, d->base, "crt"),
                            *keyp = cert_path(c->spec, d->base, "key");
        _cleanup_strv_free_ char **dns = NULL, **ips = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        const char *why = NULL;
        int r, rc, rk;

        if (!crt || !keyp)
                return -ENOMEM;
        r = sans_for(c, d->sans, &dns, &ips);
        if (r < 0)
                return fail(
                        c->rep, r,
                        "Cannot compute the SANs of %s: check the node name, advertise address, service subnet and control-plane endpoint.",
                        d->name);
        struct pki_cert_spec cs = {
                .cn = d->cn ?: c->spec->node_name, .org = d->org, .eku = d->eku, .dns = dns, .ips = ips};
        /* kubeadm with kubernetes#138957: the apiserver's kubelet client is authorized by its user name. */
        if (c->spec->kubelet_client_without_org && streq(d->name, "apiserver-kubelet-client"))
                cs.org = NULL;
        if (isempty(cs.cn))
                return fail(c->rep, -EINVAL, "%s needs the node name.", d->name);
        spec_times(c, false, &cs);

        rc = load_cert_file(c, crt, &cert);
        rk = load_key_file(c, keyp, &key);
        if (!c->ca[d->ca].cert) /* dry run under a CA still to be made */
                return report_add(c->rep, d->name, crt,
                                  rc == -ENOENT ? PKI_ACTION_CREATED : PKI_ACTION_REPLACED,
                                  rc == -ENOENT ? NULL : "its CA is new");
        if (rc == -ENOENT && rk == -ENOENT)
                why = NULL;
        else if (rc < 0)
                why = rc == -ENOENT ? "the certificate was missing" : "the certificate did not parse";
        else if (rk < 0)
                why = rk == -ENOENT ? "the key was missing" : "the key did not parse";
        else if (!(why = leaf_problem(c, cert, key, c->ca[d->ca].cert, &cs)))
                return report_add(c->rep, d->name, crt, PKI_ACTION_KEPT, NULL);

        X509_free(TAKE_PTR(cert));
        EVP_PKEY_free(TAKE_PTR(key));
        if (c->dry) {
                r = issue(c, d->name, &cs, d->ca, NULL, NULL);
                return r < 0 ? r
                             : report_add(c->rep, d->name, crt,
                                          why ? PKI_ACTION_REPLACED : PKI_ACTION_CREATED, why);
        }
        r = issue(c, d->name, &cs, d->ca, &key, &cert);
        if (r < 0)
                return r;
        /* Key first, as kubeadm: a crash in between leaves a pair the next run sees as mismatched. */
        r = write_key(c, keyp, key);
        if (r >= 0)
                r = write_cert(c, crt, cert);
        if (r < 0)
                return write_failed(c, r);
        return report_add(c->rep, d->name, crt, why ? PKI_ACTION_REPLACED : PKI_ACTION_CREATED, why);
}

/* ---- the service-account key pair ---- */

static int ensure_sa(struct ctx *c) {
        _cleanup_free_ char *keyp = cert_path(c->spec, "sa", "key"), *pubp = cert_path(c->spec, "sa", "pub");
        _cleanup_free_ char *pub_pem = NULL, *disk_pub = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL, *pub = NULL;
        enum pki_action action = PKI_ACTION_KEPT;
        const char *note = NULL;
        size_t len, disk_len;
        int r;

        if (!keyp || !pubp)
                return -ENOMEM;
        r = load_key_file(c, keyp, &key);
        if (r == -ENOENT) {
                if (c->spec->role != PKI_ROLE_INIT)
                        return fail(
                                c->rep, -ENOENT,
                                "'%s' is missing. A control-plane joiner gets the service-account key from the kubeadm-certs Secret; it never makes its own.",
                                keyp);
                if (c->dry)
                        return report_add(c->rep, "sa", keyp, PKI_ACTION_CREATED, NULL);
                r = pki_key_generate(c->spec->key_type, &key);
                if (r < 0)
                        return fail(c->rep, r, "Cannot generate the service-account key.");
                r = write_key(c, keyp, key);
                if (r < 0)
                        return write_failed(c, r);
                action = PKI_ACTION_CREATED;
        } else if (r < 0 && read_failure(r))
                return fail(c->rep, r, "Cannot read '%s': %s.", keyp, strerror(-r));
        else if (r < 0)
                return fail(
                        c->rep, r,
                        "'%s' is not a usable private key; the service-account key is never replaced (tokens signed with it would stop working).",
                        keyp);

        r = read_pki_file(c, pubp, &disk_pub, &disk_len);
        if (r >= 0 && pki_public_key_from_pem(disk_pub, disk_len, &pub) >= 0 &&
            pki_key_public_equal(key, pub))
                return report_add(c->rep, "sa", keyp, action, NULL);
        if (r >= 0 && action == PKI_ACTION_KEPT)
                note = "sa.pub did not match sa.key and was rewritten";
        if (c->dry)
                return report_add(c->rep, "sa", keyp, action, note);
        r = pki_public_key_to_pem(key, &pub_pem, &len);
        if (r < 0)
                return r;
        /* kubeadm writes sa.pub with its key writer: mode 0600. */
        r = write_set_add(c->set, pubp, pub_pem, len, 0600);
        if (r < 0)
                return write_failed(c, r);
        return report_add(c->rep, "sa", keyp, action, note);
}

/* ---- kubeconfig files ---- */

static int ensure_kubeconfig(struct ctx *c, const struct kubeconfig_def *d) {
        _cleanup_free_ char *path = strdupf("%s/%s", c->spec->kubeconfig_dir, d->file);
        _cleanup_free_ char *user_buf = NULL, *server = NULL, *cert_pem = NULL;
        _cleanup_erase_ char *text = NULL, *key_pem = NULL, *yaml = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        const char *user = d->user, *why = NULL, *note = NULL;
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        if (!user) {
                if (isempty(c->spec->node_name))
                        return fail(c->rep, -EINVAL, "%s needs the node name.", d->file);
                user = user_buf = strdupf("system:node:%s", c->spec->node_name);
                if (!user)
                        return -ENOMEM;
        }
        r = d->local ? pki_local_api_url(c->spec, &server) : pki_control_plane_url(c->spec, &server);
        if (r < 0)
                return fail(
                        c->rep, r,
                        "Cannot build the API server URL for %s: check the advertise address and control-plane endpoint.",
                        d->file);
        struct pki_cert_spec cs = {.cn = user, .org = d->org, .eku = PKI_EKU_CLIENT_AUTH};
        spec_times(c, false, &cs);

        r = read_file(c->root, path, PKI_FILE_MAX, &text, &len);
        if (r >= 0 && !c->ca[PKI_CA_KUBERNETES].cert) /* dry run: the cluster CA is still to be made */
                return fail(
                        c->rep, -EEXIST,
                        "'%s' exists, but the cluster CA would be new. Remove it if it belongs to an old cluster.",
                        path);
        if (r >= 0) {
                struct pki_kubeconfig kc = {};
                _cleanup_(X509_freep) X509 *kc_ca = NULL, *kc_cert = NULL;
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *kc_key = NULL;

                if (pki_kubeconfig_parse(text, len, &kc) < 0)
                        why = "it did not parse as a kubeconfig";
                else if (!kc.ca_pem || pki_cert_from_pem(kc.ca_pem, kc.ca_len, &kc_ca) < 0 ||
                         X509_cmp(kc_ca, c->ca[PKI_CA_KUBERNETES].cert) != 0) {
                        pki_kubeconfig_done(&kc);
                        /* As kubeadm: a kubeconfig for another cluster is an error, not something to
                         * overwrite silently. */
                        return fail(
                                c->rep, -EEXIST,
                                "'%s' exists with a different CA. Remove it if it belongs to an old cluster.",
                                path);
                } else if (kc.cert_file && !kc.cert_pem)
                        note = "its client certificate is a file (rotated by the kubelet)";
                else if (!kc.cert_pem || pki_cert_from_pem(kc.cert_pem, kc.cert_len, &kc_cert) < 0)
                        why = "it had no client certificate";
                else if (!kc.key_pem || pki_key_from_pem(kc.key_pem, kc.key_len, &kc_key) < 0)
                        why = "it had no client key";
                else
                        why = leaf_problem(c, kc_cert, kc_key, c->ca[PKI_CA_KUBERNETES].cert, &cs);
                if (!why && kc.server && !streq(kc.server, server))
                        note = "its server differs; kept, as kubeadm does";
                pki_kubeconfig_done(&kc);
                if (!why)
                        return report_add(c->rep, d->file, path, PKI_ACTION_KEPT, note);
        } else if (r != -ENOENT)
                return fail(c->rep, r, "Cannot read '%s': %s.", path, strerror(-r));

        if (c->dry) {
                r = c->ca[PKI_CA_KUBERNETES].cert ? issue(c, d->file, &cs, PKI_CA_KUBERNETES, NULL, NULL)
                                                  : 0;
                return r < 0 ? r
                             : report_add(c->rep, d->file, path,
                                          why ? PKI_ACTION_REPLACED : PKI_ACTION_CREATED, why);
        }
        r = issue(c, d->file, &cs, PKI_CA_KUBERNETES, &key, &cert);
        if (r < 0)
                return r;
        r = pki_cert_to_pem(cert, &cert_pem, NULL);
        if (r >= 0)
                r = pki_key_to_pem(key, &key_pem, NULL);
        if (r >= 0)
                r = pki_kubeconfig_render(server, c->spec->cluster_name, user, c->ca[PKI_CA_KUBERNETES].pem,
                                          cert_pem, key_pem, &yaml);
        if (r < 0)
                return fail(c->rep, r, "Cannot render %s.", d->file);
        r = write_set_add(c->set, path, yaml, strlen(yaml), 0600);
        if (r < 0)
                return write_failed(c, r);
        return report_add(c->rep, d->file, path, why ? PKI_ACTION_REPLACED : PKI_ACTION_CREATED, why);
}

static int node_ensure(const char *root, const struct pki_node_spec *spec, bool dry,
                       struct pki_report *report) {
        _cleanup_(ctx_done) struct ctx c = {
                .root = root, .spec = spec, .rep = report, .now = spec->now ?: time(NULL), .dry = dry};
        _cleanup_(write_set_freep) struct write_set *set = NULL;
        int r;

        report->error[0] = 0;
        if (spec->role == PKI_ROLE_WORKER)
                return 0; /* ca.crt comes from discovery, kubelet.conf from the kubelet's TLS bootstrap */
        if (spec->role != PKI_ROLE_INIT && spec->role != PKI_ROLE_CONTROL_PLANE)
                return fail(report, -EINVAL, "Unknown role.");
        if (!pki_key_type_to_string(spec->key_type))
                return fail(report, -EINVAL, "Unknown key type.");
        if (isempty(spec->cert_dir) || isempty(spec->kubeconfig_dir) || isempty(spec->cluster_name))
                return fail(report, -EINVAL,
                            "The certificate and kubeconfig directories and the cluster name must be set.");

        /* Every file goes into one set, put in place at the end: a failure half-way (a full disk, a
         * directory that cannot be written) leaves no CA without its leaves, no key without its certificate.
         */
        if (!dry) {
                r = write_set_new(root, &set);
                if (r < 0)
                        return r;
                c.set = set;
        }
        /* CAs first (a CA's certificates can only be checked against it), then the leaves, kubeadm's order.
         */
        for (size_t i = 0; i < ELEMENTSOF(certs); i++)
                if (certs[i].kind == KIND_CA && (!certs[i].etcd || wants_etcd_certs(spec)) &&
                    (r = ensure_ca(&c, &certs[i])) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(certs); i++)
                if (certs[i].kind == KIND_LEAF && (!certs[i].etcd || wants_etcd_certs(spec)) &&
                    (r = ensure_leaf(&c, &certs[i])) < 0)
                        return r;
        r = ensure_sa(&c);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(kubeconfigs); i++)
                if ((spec->role == PKI_ROLE_INIT || !kubeconfigs[i].init_only) &&
                    (r = ensure_kubeconfig(&c, &kubeconfigs[i])) < 0)
                        return r;
        if (set && (r = write_set_commit(set)) < 0)
                return write_failed(&c, r);
        return 0;
}

int pki_node_ensure(const char *root, const struct pki_node_spec *spec, struct pki_report *report) {
        return node_ensure(root, spec, false, report);
}

int pki_node_plan(const char *root, const struct pki_node_spec *spec, struct pki_report *report) {
        return node_ensure(root, spec, true, report);
}

/* ---- pki check ---- */

void pki_checks_free(struct pki_check *c, size_t n) {
        for (size_t i = 0; c && i < n; i++) {
                free(c[i].name);
                free(c[i].path);
                free(c[i].cn);
        }
        free(c);
}

static void check_one(struct pki_check *k, X509 *cert, EVP_PKEY *key, bool key_expected, X509 *ca,
                      time_t now) {
        time_t na;

        (void) pki_cert_common_name(cert, &k->cn);
        if (pki_cert_not_after(cert, &na) >= 0)
                k->not_after = na;
        k->time_ok = pki_cert_check_time(cert, now) >= 0;
        k->key_ok = key ? pki_key_public_equal(key, X509_get0_pubkey(cert)) : key_expected ? 0 : -1;
        k->ca_ok = ca ? pki_cert_issued_by(cert, ca) >= 0 : -1;
        if (!k->time_ok)
                k->problem = "expired or not yet valid";
        else if (k->key_ok == 0)
                k->problem = key ? "does not match its key" : "its key is missing or unreadable";
        else if (k->ca_ok == 0)
                k->problem = "not signed by its CA";
}

int pki_node_check(const char *root, const struct pki_node_spec *spec, struct pki_check **ret,
                   size_t *ret_n) {
        _cleanup_(ctx_done) struct ctx c = {.root = root, .spec = spec, .now = spec->now ?: time(NULL)};
        size_t max = ELEMENTSOF(certs) + ELEMENTSOF(kubeconfigs), n = 0;
        struct pki_check *out = calloc(max, sizeof(*out));

        if (!out)
                return -ENOMEM;
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < ELEMENTSOF(certs); i++) {
                        const struct cert_def *d = &certs[i];
                        _cleanup_(X509_freep) X509 *cert = NULL;
                        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
                        _cleanup_free_ char *kp = cert_path(spec, d->base, "key");
                        struct pki_check *k;

                        if ((pass == 0) != (d->kind == KIND_CA))
                                continue;
                        k = &out[n++];
                        k->name = strdup(d->name);
                        k->path = cert_path(spec, d->base, "crt");
                        if (!k->name || !k->path || !kp)
                                goto oom;
                        if (load_cert_file(&c, k->path, &cert) < 0)
                                continue;
                        k->present = true;
                        (void) load_key_file(&c, kp, &key);
                        check_one(k, cert, key, d->kind == KIND_LEAF,
                                  d->kind == KIND_CA ? NULL : c.ca[d->ca].cert, c.now);
                        if (d->kind == KIND_CA) {
                                if (!pki_cert_is_ca(cert) && !k->problem)
                                        k->problem = "not a CA certificate";
                                c.ca[d->ca].cert = TAKE_PTR(cert);
                        }
                }
        for (size_t i = 0; i < ELEMENTSOF(kubeconfigs); i++) {
                _cleanup_erase_ char *text = NULL;
                struct pki_kubeconfig kc = {};
                _cleanup_(X509_freep) X509 *cert = NULL;
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
                struct pki_check *k = &out[n++];
                size_t len;

                k->name = strdup(kubeconfigs[i].file);
                k->path = strdupf("%s/%s", spec->kubeconfig_dir, kubeconfigs[i].file);
                if (!k->name || !k->path)
                        goto oom;
                if (read_file(root, k->path, PKI_FILE_MAX, &text, &len) < 0)
                        continue;
                k->present = true;
                if (pki_kubeconfig_parse(text, len, &kc) < 0) {
                        k->problem = "not a kubeconfig";
                        continue;
                }
                if (kc.cert_pem && pki_cert_from_pem(kc.cert_pem, kc.cert_len, &cert) >= 0) {
                        if (kc.key_pem)
                                (void) pki_key_from_pem(kc.key_pem, kc.key_len, &key);
                        check_one(k, cert, key, true, c.ca[PKI_CA_KUBERNETES].cert, c.now);
                } else if (kc.cert_file) {
                        _cleanup_free_ char *pem = NULL;
                        size_t plen;
                        /* The kubelet's rotated file holds certificate and key together. */
                        if (read_file(root, kc.cert_file, PKI_FILE_MAX, &pem, &plen) >= 0 &&
                            pki_cert_from_pem(pem, plen, &cert) >= 0) {
                                (void) pki_key_from_pem(pem, plen, &key);
                                check_one(k, cert, key, false, c.ca[PKI_CA_KUBERNETES].cert, c.now);
                        } else
                                k->problem = "its client certificate file is unreadable";
                } else
                        k->problem = "no client certificate";
                pki_kubeconfig_done(&kc);
        }
        *ret = out;
        *ret_n = n;
        return 0;
oom:
        pki_checks_free(out, n);
        return -ENOMEM;
}
