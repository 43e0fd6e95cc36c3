/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Times a full init-node PKI (pki_node_ensure into a fresh directory: 3 CAs, 7 leaves, sa, 5 kubeconfigs,
 * 16 keys, every file written and synced) against OpenSSL alone generating the same number of keys,
 * interleaved round by round in one process so both see the same machine state.
 *
 *   bench-pki ECDSA-P256|RSA-2048|... ROUNDS
 *
 * Prints one line per measure and the ratios. RSA key generation time is random (prime search), so the
 * side-by-side ratio carries noise; its standard error is estimated from the per-key times and printed.
 * The paired ratio divides our time by the key generation inside the same runs, which has no such noise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>

#include "common/clock.h"
#include "common/log.h"
#include "pki/certlist.h"
#include "pki/key.h"
#include "tests/unit/unit.h"

static double now_s(void) {
        return (double) clock_now_ns() / 1e9;
}

/* OpenSSL alone: the same calls a shell script's 'openssl genpkey' makes, without process start-up. */
static EVP_PKEY *openssl_keygen(enum pki_key_type t) {
        switch (t) {
        case PKI_KEY_RSA_2048:
                return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        case PKI_KEY_RSA_3072:
                return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 3072);
        case PKI_KEY_RSA_4096:
                return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 4096);
        case PKI_KEY_ECDSA_P256:
                return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        case PKI_KEY_ECDSA_P384:
                return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        default:
                return NULL;
        }
}

int main(int argc, char **argv) {
        enum pki_key_type type;
        int rounds;
        double ours = 0, keygen_only = 0, sum_sq = 0;
        uint64_t kg_ns_total = 0;
        unsigned keys_per_pki = 0, samples = 0;

        if (argc != 3 || pki_key_type_from_string(argv[1], &type) < 0 || (rounds = atoi(argv[2])) < 1) {
                fprintf(stderr, "usage: %s ECDSA-P256|RSA-2048|RSA-3072|RSA-4096|ECDSA-P384 ROUNDS\n",
                        argv[0]);
                return 2;
        }
        log_set_max_level(LOG_ERR);

        for (int round = 0; round < rounds; round++) {
                struct pki_node_spec spec;
                struct pki_report rep = {};
                char *dir = unit_mkdtemp();
                uint64_t ns0, ns1;
                unsigned n0, n1;
                double t;

                if (!dir || pki_node_spec_init(&spec) < 0)
                        return 1;
                spec.node_name = strdup("bench-node");
                spec.advertise_address = strdup("10.0.0.10");
                spec.control_plane_endpoint = strdup("api.bench.test");
                spec.key_type = type;

                pki_key_generate_stats(&ns0, &n0);
                t = now_s();
                if (pki_node_ensure(dir, &spec, &rep) < 0) {
                        fprintf(stderr, "pki_node_ensure: %s\n", rep.error);
                        return 1;
                }
                ours += now_s() - t;
                pki_key_generate_stats(&ns1, &n1);
                kg_ns_total += ns1 - ns0;
                keys_per_pki = n1 - n0;
                pki_report_done(&rep);
                pki_node_spec_done(&spec);
                unit_rm_rf(dir);
                free(dir);

                for (unsigned i = 0; i < keys_per_pki; i++) {
                        double k = now_s();
                        EVP_PKEY *key = openssl_keygen(type);
                        double d = now_s() - k;
                        if (!key)
                                return 1;
                        EVP_PKEY_free(key);
                        keygen_only += d;
                        sum_sq += d * d;
                        samples++;
                }
        }

        double mean_key = keygen_only / samples;
        double var_key = samples > 1 ? (sum_sq - samples * mean_key * mean_key) / (samples - 1) : 0;
        double rel_se = sqrt(var_key / samples) / mean_key; /* of the keygen-only total */
        double ratio = ours / keygen_only;
        double paired = ours / ((double) kg_ns_total / 1e9);

        printf("%-10s %d rounds x %u keys per init-node PKI\n", argv[1], rounds, keys_per_pki);
        printf("%-10s ours (full PKI, files synced)   %9.2f ms per PKI\n", argv[1], 1e3 * ours / rounds);
        printf("%-10s openssl keygen only, same keys  %9.2f ms per PKI\n", argv[1],
               1e3 * keygen_only / rounds);
        printf("%-10s ratio ours/keygen-only          %9.3f  (+/- %.3f from key generation noise)\n",
               argv[1], ratio, ratio * M_SQRT2 * rel_se);
        printf("%-10s paired: ours / our own keygen   %9.3f  (key generation %.2f ms of %.2f ms per PKI)\n",
               argv[1], paired, (double) kg_ns_total / 1e6 / rounds, 1e3 * ours / rounds);
        return 0;
}
