/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubeadm's bootstrap-token discovery: fetch kube-public/cluster-info anonymously, check the detached JWS
 * the bootstrapsigner put there for our token id, check the CA against the pins, then fetch cluster-info
 * again over TLS verified against that CA and require the same bytes. The result is what a joiner
 * trusts: the cluster's server URL and CA.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "common/error.h"

struct fb_discovery_opts {
        const char *endpoint;              /* "host:port" of the API server or load balancer */
        const char *token;                 /* "<id>.<secret>" */
        const char *const *ca_cert_hashes; /* "sha256:<hex>", NULL-terminated; any match passes */
        bool unsafe_skip_ca_verification;
        unsigned timeout_ms;  /* total; default 300000 (kubeadm's 5 minutes) */
        unsigned interval_ms; /* between polls; default 5000 */
};

struct fb_discovery_result {
        char *server;     /* from cluster-info's kubeconfig */
        char *ca_pem;     /* the cluster CA bundle */
        char *ca_hash;    /* "sha256:<hex>" of the first CA */
        char *kubeconfig; /* the signed cluster-info kubeconfig, as stored */
};

void fb_discovery_result_done(struct fb_discovery_result *r);

/*
 * 0 on success. Failures, with *why (HTTP_ERROR_MAX-sized buffer, optional) saying what happened:
 *   -EINVAL       the token or a pin is malformed, or no pin is given without unsafe_skip_ca_verification
 *   -ENOKEY       no signature for this token id appeared before the timeout (unknown or expired token)
 *   -EKEYREJECTED the signature does not match (wrong token secret), or no CA matches the pins
 *   -EBADMSG      cluster-info holds no usable kubeconfig, or it changed between the two fetches
 *   -ETIMEDOUT / -ECONNREFUSED / -EHOSTUNREACH   the endpoint could not be reached in time
 */
int fb_discover(const struct fb_discovery_opts *opts, struct fb_discovery_result *ret, struct error *why);

/*
 * Steps 2 and 3 of fb_discover() on a cluster-info ConfigMap already read, without I/O: the detached JWS
 * for the token's id over data.kubeconfig, the kubeconfig's server and CA, then the CA against the pins
 * (none given: any CA, which fb_discover() allows only with unsafe_skip_ca_verification). On success *ret
 * holds the server, the CA, its pin and the kubeconfig. Failures, with *why:
 *   -EINVAL       the token is malformed
 *   -ENOKEY       cluster-info carries no signature for the token id
 *   -EKEYREJECTED the signature does not match, or no CA matches the pins
 *   -EBADMSG      no kubeconfig, or one without a server or a CA certificate
 */
int fb_cluster_info_verify(const cJSON *cluster_info, const char *token, const char *const *ca_cert_hashes,
                           struct fb_discovery_result *ret, struct error *why);

/* -EINVAL unless s is "sha256:" (any case) and 64 hex digits. */
int fb_ca_hash_validate(const char *s);
