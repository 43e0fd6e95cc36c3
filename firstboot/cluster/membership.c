/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "firstboot/cluster/etcd.h"
#include "firstboot/cluster/membership.h"

int fb_etcd_endpoints_from_pods(struct kube_client *k, const char *exclude, char ***ret, struct error *why) {
        _cleanup_(cJSON_Deletep) cJSON *pods = NULL;
        _cleanup_strv_free_ char **eps = NULL;
        const cJSON *p;
        int r = kube_get(
                k,
                "/api/v1/namespaces/kube-system/pods?labelSelector=component%3Detcd%2Ctier%3Dcontrol-plane",
                &pods);
        if (r < 0)
                return error_set(why, r, "cannot list the etcd pods at %s: %s", kube_client_server(k),
                                 kube_client_error(k));
        cJSON_ArrayForEach(p, json_get(pods, "items")) {
                const cJSON *ann = json_get(p, "metadata.annotations");
                const cJSON *a = cJSON_GetObjectItemCaseSensitive(
                        ann, "kubeadm.kubernetes.io/etcd.advertise-client-urls");
                if (!cJSON_IsString(a) || (exclude && streq(a->valuestring, exclude)))
                        continue;
                if (!strv_contains(eps, a->valuestring) && strv_extend(&eps, a->valuestring) < 0)
                        return -ENOMEM;
        }
        if (!eps)
                return error_set(
                        why, -ENOENT,
                        "no etcd member to ask: no etcd pod in kube-system at %s carries the kubeadm.kubernetes.io/etcd.advertise-client-urls annotation",
                        kube_client_server(k));
        *ret = TAKE_PTR(eps);
        return 0;
}

int fb_etcd_membership(const char *const *endpoints, const char *ca_pem, const char *cert_pem,
                       const char *key_pem, const char *peer_url, unsigned timeout_ms, struct error *why) {
        _cleanup_(etcd_client_freep) struct etcd_client *c = NULL;
        struct etcd_member *m = NULL;
        size_t n = 0;
        int r = etcd_client_new(endpoints, ca_pem, cert_pem, key_pem, &c);
        if (r < 0)
                return error_set(why, r, "cannot set up the etcd client (credentials missing?)");
        etcd_client_set_timeout(c, timeout_ms);
        r = etcd_member_list(c, &m, &n);
        if (r < 0)
                return error_set(why, r, "cannot list etcd's members: %s", etcd_client_error(c));
        r = FB_MEMBERSHIP_REMOVED;
        for (size_t i = 0; i < n; i++)
                if (strv_contains(m[i].peer_urls, peer_url))
                        r = FB_MEMBERSHIP_MEMBER;
        etcd_members_free(m, n);
        return r;
}
