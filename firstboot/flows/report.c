/* SPDX-License-Identifier: Apache-2.0 */
/* The join information an operator needs after init, with secrets only where the configuration asked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/flows/flows.h"
#include "pki/token.h"

static char *endpoint_of(const char *url) {
        const char *p = startswith(url, "https://");
        return strdup(p ?: url);
}

static char *join_command(const char *endpoint, const char *token, const char *pin, const char *key) {
        return key ? strdupf("kubeadm join %s --token %s --discovery-token-ca-cert-hash %s --control-plane --certificate-key %s",
                             endpoint, token, pin, key)
                   : strdupf("kubeadm join %s --token %s --discovery-token-ca-cert-hash %s", endpoint, token,
                             pin);
}

static int join_doc(struct fb_node *n, bool secrets, char **ret) {
        /* The tree holds the secrets too: wiped when it is freed. */
        _cleanup_(json_delete_wipedp) cJSON *j = NULL;
        _cleanup_free_ char *ep = endpoint_of(n->api_url), *cp = NULL, *w = NULL;
        const char *pin, *token = n->tokens ? n->tokens[0] : NULL;
        char id[PKI_TOKEN_ID_LEN + 1] = "", sec[PKI_TOKEN_SECRET_LEN + 1], *text;
        int r = fb_node_ca_pin(n, &pin);
        if (r < 0)
                return r;
        if (!ep)
                return -ENOMEM;
        if (token && pki_token_parse(token, id, sec) >= 0)
                OPENSSL_cleanse(sec, sizeof(sec));
        const char *tok = secrets && token ? token : "<token>";
        const char *key = secrets && n->certificate_key ? n->certificate_key : "<certificate-key>";
        cp = join_command(ep, tok, pin, key);
        w = join_command(ep, tok, pin, NULL);
        struct json_builder b = {.wipe = true};
        cJSON *o = jb_object(&b);
        jb_str(&b, o, "controlPlaneEndpoint", ep);
        jb_str(&b, o, "caCertHash", pin);
        jb_str(&b, o, "tokenId", id);
        jb_str(&b, o, "kubernetesVersion", n->kubernetes_version);
        jb_str(&b, o, "joinControlPlane", cp);
        jb_str(&b, o, "joinWorker", w);
        if (secrets && token)
                jb_str(&b, o, "token", token);
        if (secrets && n->certificate_key)
                jb_str(&b, o, "certificateKey", n->certificate_key);
        r = jb_finish(&b, o, &j);
        if (cp)
                OPENSSL_cleanse(cp, strlen(cp));
        if (w)
                OPENSSL_cleanse(w, strlen(w));
        if (r < 0)
                return r;
        text = json_to_string_pretty(j);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}

int fb_report_join_info(struct fb_node *n, struct error *why) {
        const char *file = fb_config_settings(n->config)->firstboot.join_file;
        _cleanup_free_ char *pub = NULL;
        _cleanup_erase_ char *full = NULL;
        const char *pin;
        int r;

        _cleanup_(write_set_freep) struct write_set *set = NULL;
        r = write_set_new(n->root, &set);
        if (r >= 0)
                r = join_doc(n, false, &pub);
        if (r >= 0)
                r = write_set_add(set, FB_JOIN_INFO_PATH, pub, strlen(pub), 0644);
        if (r >= 0 && file) {
                r = join_doc(n, true, &full);
                if (r >= 0)
                        r = write_set_add(set, file, full, strlen(full), 0600);
        }
        if (r >= 0)
                r = write_set_commit(set);
        if (r < 0) {
                const char *p = set ? write_set_failed_path(set) : NULL;
                return error_set(why, r, "cannot write %s%s: %s", strempty(p),
                                 p && file && streq(p, file) ? " (FirstbootConfiguration.reporting.joinFile)"
                                                             : "",
                                 strerror(-r));
        }
        (void) fb_node_ca_pin(n, &pin);
        printf("The control plane is up at %s (Kubernetes %s).\n"
               "Join nodes with the same CA pin: %s\n",
               n->api_url, n->kubernetes_version, pin);
        if (file)
                printf("The join commands with the token and certificate key are in %s (mode 0600).\n",
                       file);
        else if (n->token_generated || n->certificate_key_generated)
                printf("This node generated the %s%s%s; it is not written anywhere (set FirstbootConfiguration.reporting.joinFile to have it written). On this node, 'kubeadm token create --print-join-command' and 'kubeadm init phase upload-certs --upload-certs' make new ones.\n",
                       n->token_generated ? "bootstrap token" : "",
                       n->token_generated && n->certificate_key_generated ? " and the " : "",
                       n->certificate_key_generated ? "certificate key" : "");
        else
                printf("Joiners use the bootstrap token and certificate key of your configuration.\n");
        printf("Details without secrets: %s\n", FB_JOIN_INFO_PATH);
        return 0;
}
