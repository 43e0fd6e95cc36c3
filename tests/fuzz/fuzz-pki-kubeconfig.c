/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An existing kubeconfig on disk, read to decide whether to keep it (and by 'pki check'); and the names we
 * render into kubeconfigs: whatever printable cluster name comes in must read back unchanged; and the same
 * file renewed (refresh's certificate renewal), whose output must parse again with the new data in place.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "pki/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_round_trip(const uint8_t *data, size_t size) {
        char name[65];
        size_t n = size < 64 ? size : 64;
        _cleanup_free_ char *yaml = NULL;
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;

        if (n == 0)
                return;
        for (size_t i = 0; i < n; i++) /* printable ASCII, space to tilde */
                name[i] = (char) (0x20 + data[i] % 95);
        name[n] = 0;
        if (pki_kubeconfig_render("https://10.0.0.1:6443", name, "kubernetes-admin", "CA\n", "CERT\n",
                                  "KEY\n", &yaml) < 0)
                return;
        if (yaml_parse_documents(yaml, strlen(yaml), &docs, NULL) < 0)
                abort();
        const char *back = json_get_string(
                cJSON_GetArrayItem(json_get(cJSON_GetArrayItem(docs, 0), "clusters"), 0), "name");
        if (!back || !streq(back, name))
                abort();
}

static void renew(const uint8_t *data, size_t size) {
        _cleanup_free_ char *out = NULL;
        struct pki_kubeconfig k = {};

        if (pki_kubeconfig_renew((const char *) data, size, "NEWCA\n", "NEWCERT\n", "NEWKEY\n", &out) < 0)
                return;
        if (pki_kubeconfig_parse(out, strlen(out), &k) < 0)
                abort();
        if (!k.cert_pem || !streq(k.cert_pem, "NEWCERT\n") || !k.key_pem || !streq(k.key_pem, "NEWKEY\n"))
                abort();
        pki_kubeconfig_done(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct pki_kubeconfig k = {};

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        if (pki_kubeconfig_parse((const char *) data, size, &k) == 0)
                pki_kubeconfig_done(&k);
        render_round_trip(data, size);
        renew(data, size);
        return 0;
}
