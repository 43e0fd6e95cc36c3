/* SPDX-License-Identifier: Apache-2.0 */
/* A kubeadm-certs Secret as JSON from the cluster, opened for local and for external etcd. */
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "pki/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* The key the corpus files were sealed with: 00 01 02 ... 1f. */
        unsigned char key[PKI_CERT_KEY_SIZE];
        struct pki_external_etcd ext = {"/etc/etcd/ca.crt", "/etc/etcd/c.crt", NULL};
        struct pki_secret_file *files = NULL;
        const char *failed = NULL;
        size_t n = 0;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        for (unsigned i = 0; i < sizeof(key); i++)
                key[i] = (unsigned char) i;
        if (pki_kubeadm_certs_open(key, (const char *) data, size, "/etc/kubernetes/pki", NULL, &files, &n,
                                   &failed) == 0)
                pki_secret_files_free(files, n);
        files = NULL;
        if (pki_kubeadm_certs_open(key, (const char *) data, size, "/etc/kubernetes/pki", &ext, &files, &n,
                                   &failed) == 0)
                pki_secret_files_free(files, n);
        return 0;
}
