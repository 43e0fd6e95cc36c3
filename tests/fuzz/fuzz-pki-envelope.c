/* SPDX-License-Identifier: Apache-2.0 */
/* The kubeadm-certs envelope (nonce || ciphertext || tag) as it comes out of a Secret: the first 32 bytes
 * of the input are the key, the rest the sealed value. Forged input must never open; what is sealed must. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "pki/encoding.h"
#include "pki/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        unsigned char key[PKI_CERT_KEY_SIZE] = {};
        _cleanup_free_ unsigned char *sealed = NULL, *plain = NULL, *back = NULL;
        _cleanup_free_ void *decoded = NULL;
        size_t len = 0, plen = 0, blen = 0, dlen = 0;

        if (size > 64 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        memcpy(key, data, size < sizeof(key) ? size : sizeof(key));
        data += size < sizeof(key) ? size : sizeof(key);
        size -= size < sizeof(key) ? size : sizeof(key);

        /* Random bytes are not a valid GCM message (2^-128 chance aside). */
        if (pki_envelope_open(key, data, size, &plain, &plen) == 0 && size < 28)
                abort();
        /* The rest as base64 text, as the Secret carries it. */
        if (pki_base64_decode((const char *) data, size, &decoded, &dlen) == 0) {
                _cleanup_free_ char *again = base64_encode(decoded, dlen);
                if (!again)
                        return 0;
        }
        /* Round trip: sealing the input and opening it gives it back; one flipped bit breaks it. */
        if (pki_envelope_seal(key, data, size, &sealed, &len) < 0)
                return 0;
        if (pki_envelope_open(key, sealed, len, &back, &blen) < 0 || blen != size ||
            memcmp(back, data, size) != 0)
                abort();
        sealed[len / 2] ^= 1;
        free(back);
        back = NULL;
        if (pki_envelope_open(key, sealed, len, &back, &blen) == 0)
                abort();
        return 0;
}
