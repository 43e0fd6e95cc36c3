/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "firstboot/cluster/discovery.h"
#include "firstboot/cluster/kubeapi.h"
#include "pki/cert.h"
#include "pki/kubeconfig.h"
#include "pki/token.h"

#define CLUSTER_INFO_PATH "/api/v1/namespaces/kube-public/configmaps/cluster-info"

void fb_discovery_result_done(struct fb_discovery_result *r) {
        free(r->server);
        free(r->ca_pem);
        free(r->ca_hash);
        free(r->kubeconfig);
        *r = (struct fb_discovery_result){};
}

static int no_signature(struct error *why, const char *id) {
        return error_set(
                why, -ENOKEY,
                "token id '%s' is invalid for this cluster or has expired: cluster-info carries no signature for it (create one with 'kubeadm token create')",
                id);
}

int fb_ca_hash_validate(const char *s) {
        const char *hex;
        if (!s || strncasecmp(s, "sha256:", 7) != 0)
                return -EINVAL;
        hex = s + 7;
        if (strlen(hex) != 64 || strspn(hex, "0123456789abcdefABCDEF") != 64)
                return -EINVAL;
        return 0;
}

/* Checks every certificate of the bundle against every pin; one match suffices. Fills the first CA's pin. */
static int check_pins(const char *ca_pem, const char *const *pins, char **ret_first_hash,
                      struct error *why) {
        _cleanup_(BIO_free_allp) BIO *bio = BIO_new_mem_buf(ca_pem, -1);
        _cleanup_free_ char *first = NULL;
        bool matched = false;
        int n = 0;

        if (!bio)
                return -ENOMEM;
        for (;;) {
                _cleanup_(X509_freep) X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                if (!cert)
                        break;
                n++;
                if (!first && pki_cert_ca_pin(cert, &first) < 0)
                        return -ENOMEM;
                for (const char *const *p = pins; p && *p && !matched; p++)
                        matched = pki_cert_ca_pin_check(cert, *p) == 0;
        }
        if (n == 0) {
                return error_set(why, -EBADMSG, "cluster-info's kubeconfig holds no CA certificate");
        }
        if (pins && pins[0] && !matched) {
                return error_set(why, -EKEYREJECTED,
                                 "the cluster CA (%s) matches none of the given CA cert hashes", first);
        }
        *ret_first_hash = TAKE_PTR(first);
        return 0;
}

int fb_cluster_info_verify(const cJSON *cluster_info, const char *token, const char *const *ca_cert_hashes,
                           struct fb_discovery_result *ret, struct error *why) {
        _cleanup_(fb_discovery_result_done) struct fb_discovery_result v = {};
        const cJSON *data = cJSON_GetObjectItem(cluster_info, "data");
        const char *kubeconfig = json_get_string(data, "kubeconfig"), *jws;
        char id[PKI_TOKEN_ID_LEN + 1], secret[PKI_TOKEN_SECRET_LEN + 1], key[64];
        struct pki_kubeconfig k = {};
        int r;

        if (pki_token_parse(token ?: "", id, secret) < 0) {
                r = error_set(why, -EINVAL, "the token is not of the form [a-z0-9]{6}.[a-z0-9]{16}");
                goto out;
        }
        (void) snprintf(key, sizeof(key), "jws-kubeconfig-%s", id);
        jws = json_get_string(data, key);
        if (!kubeconfig) {
                r = error_set(why, -EBADMSG, "cluster-info holds no kubeconfig");
                goto out;
        }
        if (!cJSON_GetObjectItemCaseSensitive(data, key)) {
                r = no_signature(why, id);
                goto out;
        }

        /* The signature: the token secret proves who signed this kubeconfig. */
        if (!jws || pki_jws_verify_detached(kubeconfig, strlen(kubeconfig), id, secret, jws) < 0) {
                r = error_set(
                        why, -EKEYREJECTED,
                        "the signature of cluster-info for token id '%s' does not match: the token secret is wrong",
                        id);
                goto out;
        }

        /* The CA it names must match a pin. */
        r = pki_kubeconfig_parse(kubeconfig, strlen(kubeconfig), &k);
        if (r < 0 || !k.server || !k.ca_pem) {
                r = error_set(why, -EBADMSG, "cluster-info's kubeconfig has no server or CA");
                goto out;
        }
        r = check_pins(k.ca_pem, ca_cert_hashes, &v.ca_hash, why);
        if (r < 0)
                goto out;
        v.server = TAKE_PTR(k.server);
        v.ca_pem = TAKE_PTR(k.ca_pem);
        v.kubeconfig = strdup(kubeconfig);
        if (!v.kubeconfig) {
                r = -ENOMEM;
                goto out;
        }
        *ret = v;
        v = (struct fb_discovery_result){};
        r = 0;
out:
        pki_kubeconfig_done(&k);
        explicit_bzero(secret, sizeof(secret));
        return r;
}

static int fetch_cluster_info(struct kube_client *c, const char *key, cJSON **ret) {
        _cleanup_(cJSON_Deletep) cJSON *cm = NULL;
        int r = kube_get(c, CLUSTER_INFO_PATH, &cm);
        if (r < 0)
                return r;
        if (!json_get_string(cm, "data.kubeconfig"))
                return -EBADMSG;
        if (key && !cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(cm, "data"), key))
                return -ENOKEY;
        *ret = TAKE_PTR(cm);
        return 0;
}

/* The CA pins: each of the form sha256:<hex> (a value that looks like a secret is not shown), and at least
 * one unless unsafeSkipCAVerification. */
static int check_hashes(const struct fb_discovery_opts *o, struct error *why) {
        for (const char *const *p = o->ca_cert_hashes; p && *p; p++) {
                if (fb_ca_hash_validate(*p) >= 0)
                        continue;
                if (str_looks_secret(*p))
                        return error_set(
                                why, -EINVAL,
                                "a CA cert hash (not shown: it looks like a secret, a token or key pasted there) is not of the form sha256:<64 hex digits>");
                return error_set(why, -EINVAL,
                                 "'%s' is not a CA cert hash of the form sha256:<64 hex digits>", *p);
        }
        if ((!o->ca_cert_hashes || !o->ca_cert_hashes[0]) && !o->unsafe_skip_ca_verification)
                return error_set(
                        why, -EINVAL,
                        "token discovery without a CA cert hash trusts whoever answers: give one, or set unsafeSkipCAVerification");
        return 0;
}

/* host:port as https://host:port (an IPv6 address in brackets). */
static int endpoint_url(const char *endpoint, char **ret, struct error *why) {
        _cleanup_free_ char *host = NULL;
        unsigned port;
        int r = split_host_port(endpoint ?: "", &host, &port);

        if (r < 0 || port == 0)
                return error_set(why, -EINVAL, "the endpoint '%s' is not host:port", strempty(endpoint));
        *ret = ip_is_ipv6(host) ? strdupf("https://[%s]:%u", host, port)
                                : strdupf("https://%s:%u", host, port);
        return *ret ? 0 : -ENOMEM;
}

/* 1. Anonymous and unverified, as kubeadm does: trust comes from the JWS and the pin after. Retried until
 * the token's signature is there, or the deadline. */
static int read_unverified(const char *url, const char *id, unsigned long long deadline, unsigned interval,
                           cJSON **ret, struct error *why) {
        _cleanup_(kube_client_freep) struct kube_client *insecure = NULL;
        _cleanup_free_ char *key = strdupf("jws-kubeconfig-%s", id);
        int r;

        if (!key)
                return -ENOMEM;
        r = kube_client_new(url, NULL, true, &insecure);
        if (r < 0)
                return r;
        for (;;) {
                /* No request outlives the deadline: --timeout 5 means 5 seconds, not a 10-second request. */
                unsigned long long left = deadline > clock_now_ms() ? deadline - clock_now_ms() : 0;
                unsigned per = interval < 10000 ? 10000 : interval;
                kube_client_set_timeouts(insecure,
                                         left < 1000  ? 1000
                                         : left < per ? (unsigned) left
                                                      : per,
                                         0);
                r = fetch_cluster_info(insecure, key, ret);
                if (r == 0)
                        return 0;
                log_debug("cluster-info from %s: %s", url,
                          r == -ENOKEY ? "no signature for this token yet" : kube_client_error(insecure));
                if (clock_now_ms() + interval >= deadline)
                        break;
                clock_sleep_ms(interval);
        }
        if (r == -ENOKEY)
                return no_signature(why, id);
        return error_set(why, r, "cannot read cluster-info from %s: %s", url, kube_client_error(insecure));
}

/* 4. Again over TLS verified against the CA found: the same bytes, or someone is in the middle. */
static int read_verified(const char *url, const struct fb_discovery_result *v, unsigned long long deadline,
                         unsigned interval, struct error *why) {
        _cleanup_(kube_client_freep) struct kube_client *secure = NULL;
        _cleanup_(cJSON_Deletep) cJSON *cm = NULL;
        int r;

        r = kube_client_new(url, v->ca_pem, false, &secure);
        if (r < 0)
                return r;
        for (;;) {
                r = fetch_cluster_info(secure, NULL, &cm);
                /* A verification failure is an answer; anything else (a backend restarting behind the
                 * load balancer) is retried within the same deadline as the first read. */
                if (r >= 0 || r == -EKEYREJECTED || clock_now_ms() + interval >= deadline)
                        break;
                log_debug("cluster-info over verified TLS from %s: %s", url, kube_client_error(secure));
                clock_sleep_ms(interval);
        }
        if (r < 0)
                return error_set(why, r, "cannot read cluster-info over verified TLS: %s",
                                 kube_client_error(secure));
        if (!streq(json_get_string(cm, "data.kubeconfig"), v->kubeconfig))
                return error_set(why, -EBADMSG,
                                 "cluster-info changed between the unverified and the verified read");
        return 0;
}

int fb_discover(const struct fb_discovery_opts *o, struct fb_discovery_result *ret, struct error *why) {
        _cleanup_(cJSON_Deletep) cJSON *cm = NULL;
        _cleanup_free_ char *url = NULL;
        char id[PKI_TOKEN_ID_LEN + 1], secret[PKI_TOKEN_SECRET_LEN + 1];
        unsigned interval = o->interval_ms ?: 5000;
        struct fb_discovery_result v = {};
        unsigned long long deadline;
        int r;

        error_clear(why);
        /* Only its form is checked here: the signature's check below takes the token whole. */
        r = pki_token_parse(o->token ?: "", id, secret);
        explicit_bzero(secret, sizeof(secret));
        if (r < 0)
                return error_set(why, -EINVAL, "the token is not of the form [a-z0-9]{6}.[a-z0-9]{16}");
        if ((r = check_hashes(o, why)) < 0 || (r = endpoint_url(o->endpoint, &url, why)) < 0)
                return r;
        deadline = clock_now_ms() + (o->timeout_ms ?: 300000);
        r = read_unverified(url, id, deadline, interval, &cm, why);
        if (r < 0)
                return r;
        /* 2 and 3. The signature (the token secret proves who signed this kubeconfig), then the CA it names
         * against the pins. */
        r = fb_cluster_info_verify(cm, o->token, o->ca_cert_hashes, &v, why);
        if (r >= 0)
                r = read_verified(url, &v, deadline, interval, why);
        if (r < 0) {
                fb_discovery_result_done(&v);
                return r;
        }
        *ret = v;
        return 0;
}
