/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "pki/cert.h"
#include "pki/encoding.h"
#include "pki/expiry.h"
#include "pki/key.h"
#include "pki/kubeconfig.h"

#define NS_PER_S   INT64_C(1000000000)
#define NS_PER_MIN (60 * NS_PER_S)
#define NS_PER_H   (60 * NS_PER_MIN)

/* ---- HumanDuration, the residual time, the date ---- */

const char *pki_human_duration(int64_t d, char buf[static PKI_HUMAN_DURATION_MAX]) {
        const size_t n = PKI_HUMAN_DURATION_MAX;
        int64_t seconds = d / NS_PER_S, minutes, hours;

        /* "Allow deviation no more than 2 seconds (excluded) to tolerate machine time inconsistence." */
        if (seconds < -1)
                (void) snprintf(buf, n, "<invalid>");
        else if (seconds < 0)
                (void) snprintf(buf, n, "0s");
        else if (seconds < 60 * 2)
                (void) snprintf(buf, n, "%" PRId64 "s", seconds);
        else if ((minutes = d / NS_PER_MIN) < 10) {
                int64_t s = seconds % 60;
                if (s == 0)
                        (void) snprintf(buf, n, "%" PRId64 "m", minutes);
                else
                        (void) snprintf(buf, n, "%" PRId64 "m%" PRId64 "s", minutes, s);
        } else if (minutes < 60 * 3)
                (void) snprintf(buf, n, "%" PRId64 "m", minutes);
        else if ((hours = d / NS_PER_H) < 8) {
                int64_t m = minutes % 60;
                if (m == 0)
                        (void) snprintf(buf, n, "%" PRId64 "h", hours);
                else
                        (void) snprintf(buf, n, "%" PRId64 "h%" PRId64 "m", hours, m);
        } else if (hours < 48)
                (void) snprintf(buf, n, "%" PRId64 "h", hours);
        else if (hours < 24 * 8) {
                int64_t h = hours % 24;
                if (h == 0)
                        (void) snprintf(buf, n, "%" PRId64 "d", hours / 24);
                else
                        (void) snprintf(buf, n, "%" PRId64 "d%" PRId64 "h", hours / 24, h);
        } else if (hours < 24 * 365 * 2)
                (void) snprintf(buf, n, "%" PRId64 "d", hours / 24);
        else if (hours < 24 * 365 * 8) {
                int64_t dy = (hours / 24) % 365;
                if (dy == 0)
                        (void) snprintf(buf, n, "%" PRId64 "y", hours / 24 / 365);
                else
                        (void) snprintf(buf, n, "%" PRId64 "y%" PRId64 "d", hours / 24 / 365, dy);
        } else
                (void) snprintf(buf, n, "%" PRId64 "y", hours / 24 / 365);
        return buf;
}

int64_t pki_residual_seconds(time_t not_after, const struct timespec *now) {
        int64_t diff = (int64_t) not_after - (int64_t) now->tv_sec;

        /* not_after - (now.tv_sec + a fraction): below diff when diff > 0, and truncated toward zero that
         * is diff - 1; at or below zero the truncation takes the fraction back off. */
        if (now->tv_nsec > 0 && diff > 0)
                diff--;
        if (diff > PKI_DURATION_MAX_S)
                return PKI_DURATION_MAX_S;
        if (diff < -PKI_DURATION_MAX_S)
                return -PKI_DURATION_MAX_S;
        return diff;
}

const char *pki_kubeadm_date(time_t t, char buf[static PKI_KUBEADM_DATE_MAX]) {
        static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        struct tm tm;

        if (!gmtime_r(&t, &tm) || tm.tm_mon < 0 || tm.tm_mon > 11)
                (void) snprintf(buf, PKI_KUBEADM_DATE_MAX, "?");
        else
                (void) snprintf(buf, PKI_KUBEADM_DATE_MAX, "%s %02d, %04lld %02d:%02d UTC",
                                months[tm.tm_mon], tm.tm_mday, (long long) tm.tm_year + 1900, tm.tm_hour,
                                tm.tm_min);
        return buf;
}

/* ---- what kubeadm's renewal manager lists ---- */

enum ca_index {
        CA_KUBERNETES,
        CA_ETCD,
        CA_FRONT_PROXY,
        _CA_MAX,
};

struct ca_def {
        const char *name; /* as printed */
        const char *base; /* below the certificates dir, without .crt/.key */
        const char *ux;   /* kubeadm's words for it in errors */
        bool etcd;
};

/* Sorted by name, as renewal.Manager.CAs() returns them. */
static const struct ca_def cas[_CA_MAX] = {
        [CA_KUBERNETES] = {"ca", "ca", "CA", false},
        [CA_ETCD] = {"etcd-ca", "etcd/ca", "etcd CA", true},
        [CA_FRONT_PROXY] = {"front-proxy-ca", "front-proxy-ca", "front-proxy CA", false},
};

struct leaf_def {
        const char *name;
        const char *base; /* a file below the certificates dir, or (kubeconfig) one below kubeconfig_dir */
        bool kubeconfig;  /* the client certificate embedded in a kubeconfig file */
        enum ca_index ca;
        const char *ux; /* kubeadm's words in the external-CA check; NULL: not checked there */
};

/* The leaves of certsphase.GetDefaultCertList (GetCertsWithoutEtcd with external etcd), then the kubeconfig
 * files of renewal.NewManager. Sorted by name as Manager.Certificates() returns them. */
static const struct leaf_def leaves[] = {
        {"admin.conf", "admin.conf", true, CA_KUBERNETES, NULL},
        {"apiserver", "apiserver", false, CA_KUBERNETES, "API server"},
        {"apiserver-etcd-client", "apiserver-etcd-client", false, CA_ETCD, "apiserver etcd client"},
        {"apiserver-kubelet-client", "apiserver-kubelet-client", false, CA_KUBERNETES,
         "API server kubelet client"},
        {"controller-manager.conf", "controller-manager.conf", true, CA_KUBERNETES, NULL},
        {"etcd-healthcheck-client", "etcd/healthcheck-client", false, CA_ETCD, "etcd health-check client"},
        {"etcd-peer", "etcd/peer", false, CA_ETCD, "etcd peer"},
        {"etcd-server", "etcd/server", false, CA_ETCD, "etcd server"},
        {"front-proxy-client", "front-proxy-client", false, CA_FRONT_PROXY, "front-proxy client"},
        {"scheduler.conf", "scheduler.conf", true, CA_KUBERNETES, NULL},
        {"super-admin.conf", "super-admin.conf", true, CA_KUBERNETES, NULL},
};

/* The certificates UsingExternalCA / UsingExternalFrontProxyCA / UsingExternalEtcdCA check, in their order.
 */
static const char *const external_checks[_CA_MAX][4] = {
        [CA_KUBERNETES] = {"apiserver", "apiserver-kubelet-client"},
        [CA_ETCD] = {"apiserver-etcd-client", "etcd-server", "etcd-peer", "etcd-healthcheck-client"},
        [CA_FRONT_PROXY] = {"front-proxy-client"},
};

/* IsExternallyManaged of one CA, worked out once. */
struct ca_state {
        bool done;
        bool external;
        int error;
        char *problem; /* owned */
};

struct ctx {
        const char *root;
        const struct pki_node_spec *spec;
        time_t now;
        struct ca_state ca[_CA_MAX];
};

static void ctx_done(struct ctx *c) {
        for (int i = 0; i < _CA_MAX; i++)
                free(c->ca[i].problem);
}

static char *cert_path(const struct ctx *c, const char *base, const char *ext) {
        return strdupf("%s/%s.%s", c->spec->cert_dir, base, ext);
}

/* os.Stat succeeds and it is not a directory. */
static bool file_exists(const struct ctx *c, const char *path) {
        _cleanup_free_ char *full = NULL;
        struct stat st;

        if (root_path(c->root, path, &full) < 0)
                return false;
        return stat(full, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Every certificate in a PEM file, the first one first; -EBADMSG when there is none. */
static int load_cert_chain(const struct ctx *c, const char *path, STACK_OF(X509) * *ret) {
        _cleanup_free_ char *pem = NULL;
        _cleanup_(BIO_free_allp) BIO *bio = NULL;
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *chain = NULL;
        size_t len;
        X509 *x;
        int r = read_file(c->root, path, PKI_FILE_MAX, &pem, &len);

        if (r < 0)
                return r;
        bio = BIO_new_mem_buf(pem, (int) len);
        chain = sk_X509_new_null();
        if (!bio || !chain)
                return -ENOMEM;
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
                if (!sk_X509_push(chain, x)) {
                        X509_free(x);
                        return -ENOMEM;
                }
        ERR_clear_error();
        if (sk_X509_num(chain) == 0)
                return -EBADMSG;
        *ret = TAKE_PTR(chain);
        return 0;
}

static int load_cert(const struct ctx *c, const char *path, X509 **ret) {
        _cleanup_free_ char *pem = NULL;
        size_t len;
        int r = read_file(c->root, path, PKI_FILE_MAX, &pem, &len);
        if (r < 0)
                return r;
        return pki_cert_from_pem(pem, len, ret);
}

static int load_key(const struct ctx *c, const char *path, EVP_PKEY **ret) {
        _cleanup_erase_ char *pem = NULL;
        size_t len;
        int r = read_file(c->root, path, PKI_FILE_MAX, &pem, &len);
        if (r < 0)
                return r;
        return pki_key_from_pem(pem, len, ret);
}

static const char *cause(int r) {
        return r == -EBADMSG ? "no PEM certificate or key in it" : strerror(r < 0 ? -r : r);
}

/* pkiutil.VerifyCertChain: chain[0] up to ca through the rest of chain, every certificate valid at now, any
 * key usage. 0, -EBADMSG with the reason in *ret_why, or -ENOMEM. */
static int verify_chain(STACK_OF(X509) * chain, X509 *ca, time_t now, const char **ret_why) {
        _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *vc = X509_STORE_CTX_new();
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *untrusted = sk_X509_new_null();
        int ok;

        if (!store || !vc || !untrusted || !X509_STORE_add_cert(store, ca))
                return -ENOMEM;
        for (int i = 1; i < sk_X509_num(chain); i++) {
                X509 *x = sk_X509_value(chain, i);
                if (!X509_up_ref(x))
                        return -ENOMEM;
                if (!sk_X509_push(untrusted, x)) {
                        X509_free(x);
                        return -ENOMEM;
                }
        }
        if (!X509_STORE_CTX_init(vc, store, sk_X509_value(chain, 0), untrusted))
                return -ENOMEM;
        /* Go takes the roots it is given as anchors, self-signed or not. */
        X509_STORE_CTX_set_flags(vc, X509_V_FLAG_PARTIAL_CHAIN);
        X509_STORE_CTX_set_time(vc, 0, now);
        ok = X509_verify_cert(vc);
        if (ok != 1)
                *ret_why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc));
        ERR_clear_error();
        return ok == 1 ? 0 : -EBADMSG;
}

/* validateSignedCert for one certificate of an external CA: its key loads, its chain loads and verifies. */
static int check_signed(struct ctx *c, enum ca_index ci, X509 *ca, const char *name, char **ret_problem) {
        const struct leaf_def *d = NULL;
        _cleanup_free_ char *crt = NULL, *key = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *chain = NULL;
        const char *why = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(leaves); i++)
                if (streq(leaves[i].name, name))
                        d = &leaves[i];
        if (!d)
                return -EINVAL;
        crt = cert_path(c, d->base, "crt");
        key = cert_path(c, d->base, "key");
        if (!crt || !key)
                return -ENOMEM;
        r = load_key(c, key, &pkey);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_problem = strdupf(
                        "Error checking external CA condition for %s certificate authority: failure loading key for %s: '%s': %s",
                        cas[ci].base, d->base, key, cause(r));
                return r;
        }
        r = load_cert_chain(c, crt, &chain);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_problem = strdupf(
                        "Error checking external CA condition for %s certificate authority: failure loading certificate for %s: '%s': %s",
                        cas[ci].base, d->ux, crt, cause(r));
                return r;
        }
        r = verify_chain(chain, ca, c->now, &why);
        if (r == -EBADMSG)
                *ret_problem = strdupf(
                        "Error checking external CA condition for %s certificate authority: certificate %s is not signed by corresponding CA: %s",
                        cas[ci].base, d->ux, why);
        return r;
}

/* Manager.IsExternallyManaged(ca): the CA certificate loads and is a CA; without its key file every
 * certificate it signs must check out against it. */
static int ca_state(struct ctx *c, enum ca_index ci, const struct ca_state **ret) {
        struct ca_state *st = &c->ca[ci];
        _cleanup_free_ char *crt = cert_path(c, cas[ci].base, "crt"),
                            *key = cert_path(c, cas[ci].base, "key");
        _cleanup_(X509_freep) X509 *ca = NULL;
        int r;

        *ret = st;
        if (st->done)
                return 0;
        if (!crt || !key)
                return -ENOMEM;
        r = load_cert(c, crt, &ca);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                st->error = r;
                st->problem = strdupf(
                        "Error checking external CA condition for %s certificate authority: failure loading certificate for %s: '%s': %s",
                        cas[ci].base, cas[ci].ux, crt, cause(r));
        } else if (!pki_cert_is_ca(ca)) {
                st->error = -EINVAL;
                st->problem = strdupf(
                        "Error checking external CA condition for %s certificate authority: certificate %s is not a CA",
                        cas[ci].base, cas[ci].ux);
        } else if (path_exists(c->root, key) != -ENOENT)
                st->external = false;
        else {
                st->external = true;
                for (size_t i = 0; i < ELEMENTSOF(external_checks[ci]) && external_checks[ci][i]; i++) {
                        r = check_signed(c, ci, ca, external_checks[ci][i], &st->problem);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0) {
                                st->error = r;
                                break;
                        }
                }
        }
        if (st->error < 0 && !st->problem)
                return -ENOMEM;
        st->done = true;
        return 0;
}

/* ---- the rows ---- */

void pki_expiration_info_done(struct pki_expiration_info *i) {
        struct pki_expiration *lists[] = {i->certs, i->cas};
        size_t ns[] = {i->n_certs, i->n_cas};

        for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
                for (size_t k = 0; lists[l] && k < ns[l]; k++) {
                        free(lists[l][k].name);
                        free(lists[l][k].path);
                        free(lists[l][k].problem);
                }
                free(lists[l]);
        }
        *i = (struct pki_expiration_info){};
}

static void set_times(struct pki_expiration *e, X509 *cert) {
        struct tm tm = {};
        e->read = pki_cert_not_after(cert, &e->not_after) >= 0 &&
                  ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) == 1;
        if (e->read)
                e->not_before = timegm(&tm);
}

/* kubeConfigReadWriter.Read: the current context's embedded client certificate (the CA it names must
 * have data, and ca.crt must load). Fills e's times; -errno with e->problem on failure. */
static int read_kubeconfig(struct ctx *c, struct pki_expiration *e) {
        _cleanup_erase_ char *text = NULL;
        _cleanup_free_ char *ca_crt = cert_path(c, cas[CA_KUBERNETES].base, "crt");
        _cleanup_(X509_freep) X509 *cert = NULL, *ca = NULL;
        struct pki_kubeconfig kc = {};
        size_t len;
        int r;

        if (!ca_crt)
                return -ENOMEM;
        r = read_file(c->root, e->path, PKI_FILE_MAX, &text, &len);
        if (r >= 0)
                r = pki_kubeconfig_parse(text, len, &kc);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                e->problem = strdupf("failed to load kubeConfig file %s: %s", e->path,
                                     r == -EBADMSG ? "no current context with its cluster" : strerror(-r));
        else if ((r = load_cert(c, ca_crt, &ca)) < 0) {
                if (r != -ENOMEM)
                        e->problem = strdupf("failed to load existing certificate ca: '%s': %s", ca_crt,
                                             cause(r));
        } else if (kc.ca_len == 0) {
                r = -EBADMSG;
                e->problem =
                        strdupf("kubeConfig file %s does not have an embedded server certificate", e->path);
        } else if (kc.cert_len == 0) {
                r = -EBADMSG;
                e->problem =
                        strdupf("kubeConfig file %s does not have an embedded client certificate", e->path);
        } else if ((r = pki_cert_from_pem(kc.cert_pem, kc.cert_len, &cert)) < 0 && r != -ENOMEM)
                e->problem =
                        strdupf("kubeConfig file %s does not contain a valid client certificate", e->path);
        pki_kubeconfig_done(&kc);
        if (r < 0)
                return r == -ENOMEM || !e->problem ? -ENOMEM : r;
        set_times(e, cert);
        return 0;
}

/* pkiCertificateReadWriter.Read: the first certificate of <base>.crt. */
static int read_pki_cert(struct ctx *c, struct pki_expiration *e, const char *base) {
        _cleanup_(X509_freep) X509 *cert = NULL;
        int r = load_cert(c, e->path, &cert);

        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                e->problem =
                        strdupf("failed to load existing certificate %s: '%s': %s", base, e->path, cause(r));
                return e->problem ? r : -ENOMEM;
        }
        set_times(e, cert);
        return 0;
}

/* One row as GetCertificateExpirationInfo / GetCAExpirationInfo make it: the external-CA check first, then
 * the read. Both are tried so that the times are known even when kubeadm would stop at the first. */
static int fill_row(struct ctx *c, struct pki_expiration *e, enum ca_index ci, const char *base,
                    bool kubeconfig) {
        const struct ca_state *st;
        int r;

        e->missing = !file_exists(c, e->path);
        if (e->missing)
                return 0;
        r = ca_state(c, ci, &st);
        if (r < 0)
                return r;
        e->externally_managed = st->external;
        r = kubeconfig ? read_kubeconfig(c, e) : read_pki_cert(c, e, base);
        if (r == -ENOMEM)
                return r;
        if (st->error < 0) {
                free(e->problem);
                e->problem = strdup(st->problem);
                if (!e->problem)
                        return -ENOMEM;
                e->error = st->error;
        } else if (r < 0)
                e->error = r;
        return 0;
}

static int by_name(const void *a, const void *b) {
        return strcmp(((const struct pki_expiration *) a)->name, ((const struct pki_expiration *) b)->name);
}

int pki_expiration_info(const char *root, const struct pki_node_spec *spec, const struct timespec *now,
                        struct pki_expiration_info *ret) {
        struct timespec ts;
        _cleanup_(ctx_done) struct ctx c = {.root = root, .spec = spec};
        struct pki_expiration_info info = {};
        int r = 0;

        if (!now) {
                (void) clock_gettime(CLOCK_REALTIME, &ts);
                now = &ts;
        }
        c.now = now->tv_sec;
        info.certs = calloc(ELEMENTSOF(leaves), sizeof(*info.certs));
        info.cas = calloc(_CA_MAX, sizeof(*info.cas));
        if (!info.certs || !info.cas) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(leaves); i++) {
                const struct leaf_def *d = &leaves[i];
                struct pki_expiration *e;

                if (cas[d->ca].etcd && spec->external_etcd)
                        continue;
                e = &info.certs[info.n_certs++];
                e->name = strdup(d->name);
                e->path = d->kubeconfig ? strdupf("%s/%s", spec->kubeconfig_dir, d->base)
                                        : cert_path(&c, d->base, "crt");
                e->ca_name = cas[d->ca].name;
                r = e->name && e->path ? fill_row(&c, e, d->ca, d->base, d->kubeconfig) : -ENOMEM;
        }
        for (int i = 0; r >= 0 && i < _CA_MAX; i++) {
                struct pki_expiration *e;

                if (cas[i].etcd && spec->external_etcd)
                        continue;
                e = &info.cas[info.n_cas++];
                e->name = strdup(cas[i].name);
                e->path = cert_path(&c, cas[i].base, "crt");
                r = e->name && e->path ? fill_row(&c, e, (enum ca_index) i, cas[i].base, false) : -ENOMEM;
        }
        if (r >= 0) {
                qsort_safe(info.certs, info.n_certs, sizeof(*info.certs), by_name);
                qsort_safe(info.cas, info.n_cas, sizeof(*info.cas), by_name);
        }
out:
        if (r < 0) {
                pki_expiration_info_done(&info);
                return r;
        }
        *ret = info;
        return 0;
}

const struct pki_expiration *pki_expiration_nearest(const struct pki_expiration_info *info, bool ca_only) {
        const struct pki_expiration *best = NULL;
        /* The certificates first: on a tie the leaf is named, it is the one a renewal changes. */
        const struct pki_expiration *lists[] = {ca_only ? NULL : info->certs, info->cas};
        size_t ns[] = {ca_only ? 0 : info->n_certs, info->n_cas};

        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                for (size_t k = 0; k < ns[l]; k++)
                        if (lists[l][k].read && (!best || lists[l][k].not_after < best->not_after))
                                best = &lists[l][k];
        return best;
}
