/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "pki/cert.h"
#include "pki/encoding.h"
#include "pki/expiry.h"
#include "pki/key.h"
#include "pki/kubeconfig.h"
#include "pki/renewal.h"

/* kubeadm's kubeadmconstants.CertificateBackdate. */
#define CERTIFICATE_BACKDATE_S (5 * 60)

const char *pki_renewal_outcome_to_string(enum pki_renewal_outcome o) {
        static const char *const s[] = {
                [PKI_RENEWAL_RENEWED] = "renewed",
                [PKI_RENEWAL_NOT_DUE] = "not due",
                [PKI_RENEWAL_MISSING] = "missing",
                [PKI_RENEWAL_EXTERNAL_CA] = "external CA",
        };
        return (unsigned) o < ELEMENTSOF(s) ? s[o] : "?";
}

void pki_renewal_report_done(struct pki_renewal_report *r) {
        for (size_t i = 0; r->items && i < r->n; i++) {
                free(r->items[i].name);
                free(r->items[i].path);
        }
        free(r->items);
        *r = (struct pki_renewal_report){};
}

bool pki_renewal_due(time_t not_before, time_t not_after, time_t now, unsigned percent) {
        if (percent >= 100)
                return true;
        /* In 128-bit-safe steps: left/lifetime < percent/100. */
        long double lifetime = (long double) not_after - (long double) not_before;
        long double left = (long double) not_after - (long double) now;
        return lifetime <= 0 || left * 100 < lifetime * percent;
}

/* One CA, loaded once: its certificate (PEM too, for kubeconfigs) and key. */
struct signer {
        const char *name;
        X509 *cert;
        EVP_PKEY *key;
        char *cert_pem;
        int error; /* 0 not tried yet, 1 loaded, -errno */
};

struct renewal_ctx {
        const char *root;
        const struct pki_node_spec *spec;
        time_t now;   /* decisions */
        time_t issue; /* the new certificates' validity: spec->now, else this machine's clock */
        struct signer signers[3];
        struct pki_renewal_report *rep;
};

static void renewal_ctx_done(struct renewal_ctx *c) {
        for (size_t i = 0; i < ELEMENTSOF(c->signers); i++) {
                X509_free(c->signers[i].cert);
                EVP_PKEY_free(c->signers[i].key);
                free(c->signers[i].cert_pem);
        }
}

_printf_(3, 4) static int fail(struct renewal_ctx *c, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(c->rep->error, sizeof(c->rep->error), fmt, ap);
        va_end(ap);
        return r;
}

/* The files of a CA, below the certificates dir. */
static const char *ca_base(const char *ca_name) {
        return streq(ca_name, "etcd-ca")          ? "etcd/ca"
               : streq(ca_name, "front-proxy-ca") ? "front-proxy-ca"
                                                  : "ca";
}

static int load_signer(struct renewal_ctx *c, const char *ca_name, struct signer **ret) {
        struct signer *s = NULL;
        _cleanup_free_ char *crt = NULL, *key = NULL;
        _cleanup_erase_ char *key_pem = NULL;
        size_t len, key_len;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(c->signers) && !s; i++)
                if (!c->signers[i].name || streq(c->signers[i].name, ca_name))
                        s = &c->signers[i];
        if (!s)
                return -EINVAL;
        s->name = ca_name;
        if (s->error == 0) {
                crt = strdupf("%s/%s.crt", c->spec->cert_dir, ca_base(ca_name));
                key = strdupf("%s/%s.key", c->spec->cert_dir, ca_base(ca_name));
                if (!crt || !key)
                        return -ENOMEM;
                r = read_file(c->root, crt, PKI_FILE_MAX, &s->cert_pem, &len);
                if (r >= 0)
                        r = pki_cert_from_pem(s->cert_pem, len, &s->cert);
                if (r < 0) {
                        s->error = r == -ENOMEM ? 0 : r;
                        return r == -ENOMEM ? r
                                            : fail(c, r, "cannot read the %s certificate %s: %s", ca_name,
                                                   crt, strerror(-r));
                }
                r = read_file(c->root, key, PKI_FILE_MAX, &key_pem, &key_len);
                if (r >= 0)
                        r = pki_key_from_pem(key_pem, key_len, &s->key);
                if (r < 0) {
                        s->error = r == -ENOMEM ? 0 : r;
                        return r == -ENOMEM ? r
                                            : fail(c, r, "cannot read the %s key %s: %s", ca_name, key,
                                                   strerror(-r));
                }
                if (pki_cert_check_time(s->cert, c->issue) < 0) {
                        s->error = -EKEYEXPIRED;
                        return fail(
                                c, -EKEYEXPIRED,
                                "the %s certificate %s is not valid now: nothing it signs would be trusted",
                                ca_name, crt);
                }
                s->error = 1;
        }
        if (s->error < 0)
                return s->error;
        *ret = s;
        return 0;
}

/* The certificate to renew: the .crt, or the kubeconfig's embedded client certificate (and its text). */
static int read_old(struct renewal_ctx *c, const struct pki_renewal *it, X509 **ret, char **ret_text,
                    size_t *ret_len) {
        _cleanup_erase_ char *text = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        size_t len;
        int r = read_file(c->root, it->path, PKI_FILE_MAX, &text, &len);

        if (r >= 0 && endswith(it->path, ".crt"))
                r = pki_cert_from_pem(text, len, &cert);
        else if (r >= 0) {
                struct pki_kubeconfig kc = {};
                r = pki_kubeconfig_parse(text, len, &kc);
                if (r >= 0)
                        r = kc.cert_len ? pki_cert_from_pem(kc.cert_pem, kc.cert_len, &cert) : -EBADMSG;
                pki_kubeconfig_done(&kc);
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(c, r, "cannot read the %s certificate in %s: %s", it->name, it->path,
                            r == -EBADMSG ? "no embedded client certificate" : strerror(-r));
        *ret = TAKE_PTR(cert);
        *ret_text = TAKE_PTR(text);
        *ret_len = len;
        return 0;
}

/* Renews one row into the set: a new key, the old fields, kubeadm's validity. */
static int renew_one(struct renewal_ctx *c, struct write_set *set, struct pki_renewal *it) {
        _cleanup_(X509_freep) X509 *old = NULL, *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(pki_cert_fields_done) struct pki_cert_fields f = {};
        _cleanup_erase_ char *old_text = NULL, *key_pem = NULL, *kubeconfig = NULL;
        _cleanup_free_ char *cert_pem = NULL, *key_path = NULL;
        struct signer *ca = NULL;
        size_t old_len = 0, key_len, cert_len;
        int r;

        r = load_signer(c, it->ca_name, &ca);
        if (r >= 0)
                r = read_old(c, it, &old, &old_text, &old_len);
        if (r < 0)
                return r;
        r = pki_cert_fields_read(old, &f);
        if (r < 0)
                return r == -ENOMEM ? r
                                    : fail(c, r, "cannot read the subject and SANs of %s in %s", it->name,
                                           it->path);
        struct pki_cert_spec spec = {
                .cn = f.cn,
                .org = f.org,
                .eku = f.eku,
                .dns = f.dns,
                .ips = f.ips,
                .not_before = c->issue - CERTIFICATE_BACKDATE_S,
                .not_after = c->issue + (time_t) c->spec->cert_validity_s,
        };
        r = pki_key_generate(c->spec->key_type, &key);
        if (r >= 0)
                r = pki_cert_create(&spec, key, ca->cert, ca->key, &cert);
        if (r >= 0)
                r = pki_key_to_pem(key, &key_pem, &key_len);
        if (r >= 0)
                r = pki_cert_to_pem(cert, &cert_pem, &cert_len);
        if (r < 0)
                return r == -ENOMEM
                               ? r
                               : fail(c, r, "cannot issue a new %s certificate: %s", it->name, strerror(-r));
        if (endswith(it->path, ".crt")) {
                key_path = strdup(it->path);
                if (!key_path)
                        return -ENOMEM;
                strcpy(key_path + strlen(key_path) - 3, "key");
                /* kubeadm's WriteCertAndKey: the key first, then the certificate. */
                r = write_set_add(set, key_path, key_pem, key_len, 0600);
                if (r >= 0)
                        r = write_set_add(set, it->path, cert_pem, cert_len, 0644);
        } else {
                r = pki_kubeconfig_renew(old_text, old_len, ca->cert_pem, cert_pem, key_pem, &kubeconfig);
                if (r == -EBADMSG)
                        return fail(c, r, "%s has no current context with its cluster, server and user",
                                    it->path);
                if (r >= 0)
                        r = write_set_add(set, it->path, kubeconfig, strlen(kubeconfig), 0600);
        }
        if (r < 0)
                return r == -ENOMEM ? r
                                    : fail(c, r, "cannot write %s: %s",
                                           write_set_failed_path(set) ?: it->path, strerror(-r));
        it->new_not_after = spec.not_after;
        return 0;
}

int pki_renew(const char *root, const struct pki_node_spec *spec, time_t now, unsigned percent, bool dry,
              struct pki_renewal_report *ret) {
        _cleanup_(pki_expiration_info_done) struct pki_expiration_info info = {};
        _cleanup_(renewal_ctx_done) struct renewal_ctx c = {
                .root = root, .spec = spec, .now = now, .issue = spec->now ?: time(NULL), .rep = ret};
        _cleanup_(write_set_freep) struct write_set *set = NULL;
        struct timespec ts = {.tv_sec = now};
        int r;

        *ret = (struct pki_renewal_report){};
        r = pki_expiration_info(root, spec, &ts, &info);
        if (r < 0)
                return r;
        ret->items = calloc(info.n_certs ?: 1, sizeof(*ret->items));
        if (!ret->items)
                return -ENOMEM;
        if (!dry && (r = write_set_new(root, &set)) < 0)
                return r;
        for (size_t i = 0; i < info.n_certs; i++) {
                const struct pki_expiration *e = &info.certs[i];
                struct pki_renewal *it = &ret->items[ret->n++];

                it->name = strdup(e->name);
                it->path = strdup(e->path);
                it->ca_name = e->ca_name;
                if (!it->name || !it->path)
                        return -ENOMEM;
                it->old_not_before = e->not_before;
                it->old_not_after = e->not_after;
                if (e->missing) {
                        it->outcome = PKI_RENEWAL_MISSING;
                        continue;
                }
                if (e->externally_managed && e->error >= 0) {
                        it->outcome = PKI_RENEWAL_EXTERNAL_CA;
                        continue;
                }
                if (e->error < 0 || !e->read)
                        return fail(&c, e->error < 0 ? e->error : -EBADMSG, "%s", e->problem ?: e->path);
                if (!pki_renewal_due(e->not_before, e->not_after, now, percent)) {
                        it->outcome = PKI_RENEWAL_NOT_DUE;
                        continue;
                }
                it->outcome = PKI_RENEWAL_RENEWED;
                ret->n_renewed++;
                if (!dry && (r = renew_one(&c, set, it)) < 0)
                        return r;
        }
        if (!dry && ret->n_renewed > 0) {
                r = write_set_commit(set);
                if (r < 0)
                        return r == -ENOMEM ? r
                                            : fail(&c, r, "cannot write %s: %s",
                                                   write_set_failed_path(set) ?: "the renewed certificates",
                                                   strerror(-r));
        }
        log_debug("pki: %zu of %zu certificates renewed (below %u%% of their lifetime left)", ret->n_renewed,
                  ret->n, percent);
        return 0;
}
