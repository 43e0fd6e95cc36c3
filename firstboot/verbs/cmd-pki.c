/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pki: the node's kubeadm-compatible certificates and kubeconfigs, and the crypto of a join (CA pin hash,
 * certificate key, bootstrap token, the kubeadm-certs envelope), for the node flows and for operators.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/config/pki-config.h"
#include "pki/cert.h"
#include "pki/certlist.h"
#include "pki/encoding.h"
#include "pki/envelope.h"
#include "pki/token.h"

static const char pki_usage[] =
        "kube-firstboot pki certs|ca-hash|certificate-key|token|encrypt-certs|decrypt-certs|check|jws ...";

static const char pki_body[] =
        "kubeadm-compatible certificates and kubeconfigs, and the crypto of a join. Each command has\n"
        "its own --help.\n"
        "\n"
        "  certs --config FILE          write the node's certificates and kubeconfigs for its role\n"
        "  ca-hash FILE                 print the CA pin for --discovery-token-ca-cert-hash\n"
        "  certificate-key              print a fresh certificate key (for the kubeadm-certs Secret)\n"
        "  token                        print a fresh bootstrap token\n"
        "  encrypt-certs                print the kubeadm-certs Secret for this node's shared CA files\n"
        "  decrypt-certs                write the files of a kubeadm-certs Secret, as a joiner does\n"
        "  check                        list every certificate with its expiry, key and CA\n"
        "                               (kubeadm's expiry table: 'kube-firstboot certs check-expiration')\n"
        "  jws                          sign or verify a cluster-info JWS with a bootstrap token\n"
        "\n"
        "Files go under --root DIR when given (default: the real /etc/kubernetes).\n";

/* ---- certs ---- */

static const char certs_usage[] =
        "kube-firstboot pki certs --config FILE [--role init|control-plane|worker] [--dry-run]";
static const char certs_body[] =
        "Writes what kubeadm's certs and kubeconfig phases write for this node, from a kubeadm\n"
        "configuration file (InitConfiguration / ClusterConfiguration / JoinConfiguration, v1beta4 or\n"
        "v1beta3), and prints for each file whether it was created, kept or replaced.\n"
        "\n"
        "  --config FILE   the kubeadm configuration. Read: nodeRegistration.name,\n"
        "                  localAPIEndpoint (or controlPlane.localAPIEndpoint), controlPlaneEndpoint,\n"
        "                  networking.serviceSubnet/dnsDomain, apiServer.certSANs,\n"
        "                  etcd.local.serverCertSANs/peerCertSANs, etcd.external, certificatesDir,\n"
        "                  clusterName, encryptionAlgorithm, certificateValidityPeriod,\n"
        "                  caCertificateValidityPeriod, and a FirstbootConfiguration's ca (cert or\n"
        "                  certFile, key or keyFile) as the cluster CA. Defaults are kubeadm's.\n"
        "  --role ROLE     override the role the documents imply: 'init' (an InitConfiguration),\n"
        "                  'control-plane' (a JoinConfiguration with controlPlane), 'worker' (without).\n"
        "  --dry-run       print what would be created, kept or replaced; generate and write nothing\n"
        "\n"
        "init:           CAs (ca, front-proxy-ca, etcd/ca unless etcd is external), their leaf\n"
        "                certificates, sa.key/sa.pub, and admin.conf, super-admin.conf, kubelet.conf,\n"
        "                controller-manager.conf, scheduler.conf.\n"
        "control-plane:  the leaf certificates and admin.conf, controller-manager.conf, scheduler.conf.\n"
        "                The CAs and sa.key must already be there (see 'pki decrypt-certs').\n"
        "worker:         nothing: ca.crt comes from discovery, kubelet.conf from the kubelet.\n"
        "\n"
        "Running it again changes nothing that is still right. A CA on disk is always used, never\n"
        "replaced. A certificate is kept when it matches its key, is signed by the current CA, is valid\n"
        "now and has every SAN and usage the configuration asks for; otherwise it is issued again.\n"
        "\n"
        "Example:\n"
        "  kube-firstboot pki certs --config /etc/kubernetes/kubeadm.yaml --root /mnt/image\n";

static int load_spec(const char *config, const char *role, struct pki_node_spec *spec) {
        struct error why = {};
        int r = pki_node_spec_init(spec);
        if (r < 0)
                return cli_oom();
        if (!config)
                return EXIT_DONE;
        r = fb_pki_config_load(config, cli.root, role, spec, &why);
        if (r == -ENOMEM)
                return cli_oom();
        if (r < 0) {
                log_error("%s", error_message(&why, r));
                return EXIT_USAGE;
        }
        return EXIT_DONE;
}

static int pki_certs(int argc, char **argv) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"config", required_argument, NULL, 'c'},
                {"role", required_argument, NULL, 'r'},
                {"dry-run", no_argument, NULL, 'n'},
                {},
        };
        _cleanup_(pki_node_spec_done) struct pki_node_spec spec = {};
        _cleanup_(pki_report_done) struct pki_report rep = {};
        const char *config = NULL, *role = NULL;
        bool dry = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(certs_usage, certs_body);
                        return EXIT_DONE;
                case 'c':
                        config = optarg;
                        break;
                case 'r':
                        role = optarg;
                        break;
                case 'n':
                        dry = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (!config || optind != argc) {
                log_error("Usage: %s", certs_usage);
                return EXIT_USAGE;
        }
        r = load_spec(config, role, &spec);
        if (r != EXIT_DONE)
                return r;

        if (dry)
                printf("dry run: nothing is generated or written; 'pki certs' would do this:\n");
        r = dry ? pki_node_plan(cli.root, &spec, &rep) : pki_node_ensure(cli.root, &spec, &rep);
        /* After a failure nothing was written (the files are one set): no "created" line may say otherwise.
         */
        for (size_t i = 0; (r >= 0 || dry) && i < rep.n; i++) {
                const struct pki_result *x = &rep.results[i];
                printf("%-8s %-24s %s%s%s\n", pki_action_to_string(x->action), x->name, x->path,
                       x->reason ? ": " : "", strempty(x->reason));
        }
        if (r < 0) {
                log_error_errno(r, "%s",
                                rep.error[0] ? rep.error
                                             : "Writing the certificates failed: %m; nothing was written.");
                return EXIT_FAILED;
        }
        if (spec.role == PKI_ROLE_WORKER)
                printf("worker: nothing to write; ca.crt comes from discovery and kubelet.conf from the kubelet's TLS bootstrap.\n");
        return EXIT_DONE;
}

/* ---- ca-hash, certificate-key, token ---- */

static const char ca_hash_usage[] = "kube-firstboot pki ca-hash FILE";
static const char ca_hash_body[] =
        "Prints the pin of the CA certificate in FILE as kubeadm join takes it in\n"
        "--discovery-token-ca-cert-hash: 'sha256:' and the SHA-256 of the certificate's DER\n"
        "SubjectPublicKeyInfo. The same as:\n"
        "  openssl x509 -pubkey -noout -in FILE | openssl pkey -pubin -outform der | sha256sum\n"
        "\n"
        "Example:\n"
        "  kube-firstboot pki ca-hash /etc/kubernetes/pki/ca.crt\n";

static int pki_ca_hash(int argc, char **argv) {
        _cleanup_free_ char *pem = NULL, *pin = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        size_t len;
        int r = cli_help_or_usage(argc, argv, ca_hash_usage, ca_hash_body, 1);

        if (r >= 0)
                return r;
        if (argc != 2) {
                log_error("Usage: %s", ca_hash_usage);
                return EXIT_USAGE;
        }
        r = read_file(NULL, argv[1], PKI_FILE_MAX, &pem, &len);
        if (r < 0) {
                log_error_errno(r, "Cannot read '%s': %m", argv[1]);
                return EXIT_USAGE;
        }
        if (pki_cert_from_pem(pem, len, &cert) < 0) {
                log_error("'%s' holds no PEM certificate.", argv[1]);
                return EXIT_USAGE;
        }
        r = pki_cert_ca_pin(cert, &pin);
        if (r < 0)
                return cli_oom();
        printf("%s\n", pin);
        return EXIT_DONE;
}

static int pki_certificate_key(int argc, char **argv) {
        char key[2 * PKI_CERT_KEY_SIZE + 1];
        int r = cli_help_or_usage(
                argc, argv, "kube-firstboot pki certificate-key",
                "Prints a fresh certificate key: 32 random bytes as 64 hex digits, what\n"
                "'kubeadm certs certificate-key' prints. It encrypts the kubeadm-certs Secret;\n"
                "keep it out of logs and shell history.\n",
                0);
        if (r >= 0)
                return r;
        if (pki_certificate_key_generate(key) < 0) {
                log_error("The random number generator failed.");
                return EXIT_FAILED;
        }
        printf("%s\n", key);
        OPENSSL_cleanse(key, sizeof(key));
        return EXIT_DONE;
}

static int pki_token(int argc, char **argv) {
        char token[PKI_TOKEN_LEN + 1];
        int r = cli_help_or_usage(
                argc, argv, "kube-firstboot pki token",
                "Prints a fresh bootstrap token, '[a-z0-9]{6}.[a-z0-9]{16}' as 'kubeadm token\n"
                "generate' does: the part before the dot is the public token id, the rest is\n"
                "the secret.\n",
                0);
        if (r >= 0)
                return r;
        if (pki_token_generate(token) < 0) {
                log_error("The random number generator failed.");
                return EXIT_FAILED;
        }
        printf("%s\n", token);
        OPENSSL_cleanse(token, sizeof(token));
        return EXIT_DONE;
}

/* ---- encrypt-certs, decrypt-certs ---- */

static const char encrypt_usage[] =
        "kube-firstboot pki encrypt-certs (--certificate-key HEX | --certificate-key-file FILE)\n"
        "           [--config FILE] [--external-etcd]";
static const char encrypt_body[] =
        "Prints the kubeadm-certs Secret (JSON) that 'kubeadm init phase upload-certs' would store for\n"
        "this node: ca.crt/.key, front-proxy-ca.crt/.key, sa.pub/.key and etcd-ca.crt/.key (local etcd)\n"
        "or external-etcd-ca.crt, external-etcd.crt/.key (external etcd), each file sealed on its own\n"
        "with AES-256-GCM under the certificate key (nonce || ciphertext || tag). A missing file gets\n"
        "an empty value, as kubeadm does. The ownerReference to the 2-hour TTL token is left out: it\n"
        "needs a live cluster.\n"
        "\n"
        "  --certificate-key HEX        64 hex digits ('pki certificate-key' makes one)\n"
        "  --certificate-key-file FILE  the same, read from a file (keeps it off the command line)\n"
        "  --config FILE                kubeadm configuration: certificatesDir and etcd.external paths\n"
        "  --external-etcd              carry the external etcd client files (needs --config with\n"
        "                               etcd.external, which this also implies)\n"
        "\n"
        "Example:\n"
        "  kube-firstboot pki encrypt-certs --certificate-key-file key.txt | kubectl apply -f -\n";

static const char decrypt_usage[] =
        "kube-firstboot pki decrypt-certs (--certificate-key HEX | --certificate-key-file FILE)\n"
        "           --secret FILE [--config FILE]";
static const char decrypt_body[] =
        "Takes a kubeadm-certs Secret as 'kubectl -n kube-system get secret kubeadm-certs -o json'\n"
        "prints it, and writes its files where 'kubeadm join --control-plane' (download-certs) would,\n"
        "every one with mode 0600 as kubeadm writes them (keys, public keys and certificates alike).\n"
        "Every entry is opened before anything is written, and the files go in as one set: with a wrong\n"
        "key, changed data, a full disk or a directory that cannot be written, no file is left.\n"
        "\n"
        "  --certificate-key HEX        the key the Secret was sealed with\n"
        "  --certificate-key-file FILE  the same, read from a file\n"
        "  --secret FILE                the Secret as JSON ('-' for standard input)\n"
        "  --config FILE                kubeadm configuration: certificatesDir and, for external etcd,\n"
        "                               where its client files go. Without it the etcd mode is read\n"
        "                               from the Secret's entries.\n"
        "\n"
        "Example:\n"
        "  kubectl -n kube-system get secret kubeadm-certs -o json > s.json\n"
        "  kube-firstboot pki decrypt-certs --certificate-key-file key.txt --secret s.json\n";

static int read_certificate_key(const char *hex, const char *file, unsigned char key[PKI_CERT_KEY_SIZE]) {
        _cleanup_erase_ char *text = NULL;
        int r;

        if (!!hex == !!file) {
                log_error("Give the certificate key with --certificate-key or --certificate-key-file.");
                return EXIT_USAGE;
        }
        if (file) {
                r = read_file(NULL, file, 4096, &text, NULL);
                if (r < 0) {
                        log_error_errno(r, "Cannot read the certificate key file '%s': %m", file);
                        return EXIT_USAGE;
                }
                text[strcspn(text, " \t\r\n")] = 0;
                hex = text;
        }
        if (pki_certificate_key_parse(hex, key) < 0) {
                log_error(
                        "The certificate key must be 64 hex digits (32 bytes), as 'pki certificate-key' prints.");
                return EXIT_USAGE;
        }
        return EXIT_DONE;
}

static int do_encrypt(const unsigned char key[PKI_CERT_KEY_SIZE], const struct pki_node_spec *spec) {
        struct pki_external_etcd ext = {spec->external_etcd_ca_file, spec->external_etcd_cert_file,
                                        spec->external_etcd_key_file};
        _cleanup_free_ char *json = NULL;
        int r = pki_kubeadm_certs_secret(key, cli.root, spec->cert_dir, spec->external_etcd ? &ext : NULL,
                                         &json);

        if (r < 0) {
                log_error_errno(r, "Cannot build the kubeadm-certs Secret from '%s': %m", spec->cert_dir);
                return EXIT_FAILED;
        }
        fputs(json, stdout);
        return EXIT_DONE;
}

static int do_decrypt(const unsigned char key[PKI_CERT_KEY_SIZE], const struct pki_node_spec *spec,
                      const char *secret, const char *config) {
        struct pki_external_etcd ext = {spec->external_etcd_ca_file, spec->external_etcd_cert_file,
                                        spec->external_etcd_key_file};
        _cleanup_free_ char *json = NULL;
        struct pki_secret_file *files = NULL;
        const char *failed = NULL;
        size_t len = 0, n = 0;
        int r;

        r = read_file(NULL, streq(secret, "-") ? "/dev/stdin" : secret, PKI_SECRET_JSON_MAX, &json, &len);
        if (r < 0) {
                log_error_errno(r, "Cannot read the Secret '%s': %m", secret);
                return EXIT_USAGE;
        }
        if (!config && strstr(json, "\"external-etcd-ca.crt\"")) {
                log_error(
                        "The Secret is for external etcd: give --config with etcd.external so that its client files have a place to go.");
                return EXIT_USAGE;
        }
        r = pki_kubeadm_certs_open(key, json, len, spec->cert_dir, spec->external_etcd ? &ext : NULL, &files,
                                   &n, &failed);
        if (r == -EINVAL)
                log_error("'%s' is not a Secret in JSON with a 'data' object.", secret);
        else if (r == -ENOENT)
                log_error(
                        "The Secret does not include the required certificate or key '%s'; nothing was written.",
                        strempty(failed));
        else if (r == -EBADMSG)
                log_error(
                        "Entry '%s' of the Secret does not decrypt with this certificate key (wrong key, or the data was changed); nothing was written.",
                        strempty(failed));
        else if (r < 0)
                log_error_errno(r, "Cannot open the Secret: %m");
        if (r < 0)
                return EXIT_FAILED;
        _cleanup_free_ char *failed_path = NULL;
        r = pki_secret_files_install(cli.root, files, n, &failed_path);
        if (r < 0)
                log_error_errno(
                        r, "Cannot write '%s': %m; nothing was written (no file of the Secret is left).",
                        failed_path ?: "?");
        else
                for (size_t i = 0; i < n; i++)
                        printf("wrote %04o %s\n", (unsigned) files[i].mode, files[i].path);
        pki_secret_files_free(files, n);
        return r < 0 ? EXIT_FAILED : EXIT_DONE;
}

static int crypt_certs(int argc, char **argv, bool encrypt) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"certificate-key", required_argument, NULL, 'k'},
                {"certificate-key-file", required_argument, NULL, 'f'},
                {"config", required_argument, NULL, 'c'},
                {"external-etcd", no_argument, NULL, 'e'},
                {"secret", required_argument, NULL, 's'},
                {},
        };
        _cleanup_(pki_node_spec_done) struct pki_node_spec spec = {};
        const char *hex = NULL, *key_file = NULL, *config = NULL, *secret = NULL;
        unsigned char key[PKI_CERT_KEY_SIZE];
        bool external = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(encrypt ? encrypt_usage : decrypt_usage,
                                       encrypt ? encrypt_body : decrypt_body);
                        return EXIT_DONE;
                case 'k':
                        hex = optarg;
                        break;
                case 'f':
                        key_file = optarg;
                        break;
                case 'c':
                        config = optarg;
                        break;
                case 'e':
                        external = true;
                        break;
                case 's':
                        secret = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc || (encrypt && secret) || (!encrypt && (!secret || external))) {
                log_error("Usage: %s", encrypt ? encrypt_usage : decrypt_usage);
                return EXIT_USAGE;
        }
        r = read_certificate_key(hex, key_file, key);
        if (r != EXIT_DONE)
                return r;
        /* Only certificatesDir and etcd.external matter here: "worker" needs no advertise address. */
        r = load_spec(config, config ? "worker" : NULL, &spec);
        if (r != EXIT_DONE)
                goto out;
        if (external && !spec.external_etcd) {
                log_error(
                        "--external-etcd needs --config with an etcd.external section (its caFile, certFile and keyFile are the files to carry).");
                r = EXIT_USAGE;
                goto out;
        }
        r = encrypt ? do_encrypt(key, &spec) : do_decrypt(key, &spec, secret, config);
out:
        OPENSSL_cleanse(key, sizeof(key));
        return r;
}

/* ---- check ---- */

static const char check_usage[] = "kube-firstboot pki check [--config FILE]";
static const char check_body[] =
        "Lists every certificate kubeadm keeps on a node (under certificatesDir) and the client\n"
        "certificate of every kubeconfig, with its subject CN, expiry, whether it matches its key and\n"
        "whether its CA signed it. Absent files are listed as such.\n"
        "\n"
        "  --config FILE   kubeadm configuration, for certificatesDir (default /etc/kubernetes/pki)\n"
        "\n"
        "Exits 1 when a present certificate is expired, does not match its key or was not signed by\n"
        "its CA.\n";

static int pki_check(int argc, char **argv) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"config", required_argument, NULL, 'c'},
                {},
        };
        _cleanup_(pki_node_spec_done) struct pki_node_spec spec = {};
        struct pki_check *checks = NULL;
        const char *config = NULL;
        size_t n = 0;
        int c, r, bad = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(check_usage, check_body);
                        return EXIT_DONE;
                case 'c':
                        config = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc) {
                log_error("Usage: %s", check_usage);
                return EXIT_USAGE;
        }
        r = load_spec(config, config ? "worker" : NULL, &spec);
        if (r != EXIT_DONE)
                return r;
        r = pki_node_check(cli.root, &spec, &checks, &n);
        if (r < 0)
                return cli_oom();
        printf("%-24s %-20s %-6s %-6s %-6s %s\n", "CERTIFICATE", "EXPIRES", "VALID", "KEY", "CA",
               "SUBJECT / PATH");
        for (size_t i = 0; i < n; i++) {
                const struct pki_check *k = &checks[i];
                char when[32] = "-";
                if (!k->present) {
                        printf("%-24s %-20s %-6s %-6s %-6s %s\n", k->name, "absent", "-", "-", "-", k->path);
                        continue;
                }
                if (k->not_after) {
                        struct tm tm;
                        gmtime_r(&k->not_after, &tm);
                        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
                }
                printf("%-24s %-20s %-6s %-6s %-6s %s %s%s%s\n", k->name, when, k->time_ok ? "yes" : "NO",
                       k->key_ok < 0 ? "-"
                       : k->key_ok   ? "ok"
                                     : "BAD",
                       k->ca_ok < 0 ? "-"
                       : k->ca_ok   ? "ok"
                                    : "BAD",
                       strempty(k->cn), k->path, k->problem ? ": " : "", strempty(k->problem));
                if (k->problem)
                        bad++;
        }
        pki_checks_free(checks, n);
        return bad ? EXIT_FAILED : EXIT_DONE;
}

/* ---- jws ---- */

static const char jws_usage[] = "kube-firstboot pki jws --token-file FILE --payload FILE [--verify JWS]";
static const char jws_body[] =
        "Prints the detached JWS (HS256) that the bootstrap signer puts on the cluster-info ConfigMap\n"
        "as 'jws-kubeconfig-<token id>' for a payload (the ConfigMap's 'kubeconfig' value) and a\n"
        "bootstrap token, or with --verify checks a given one, as 'kubeadm join' does before it\n"
        "trusts cluster-info.\n"
        "\n"
        "  --token-file FILE   the bootstrap token '<id>.<secret>' ('-' for standard input)\n"
        "  --payload FILE      the exact bytes that were signed\n"
        "  --verify JWS        exit 0 when JWS matches, 1 when it does not\n"
        "\n"
        "Example:\n"
        "  kubectl -n kube-public get cm cluster-info -o jsonpath='{.data.kubeconfig}' > kc\n"
        "  kube-firstboot pki jws --token-file token.txt --payload kc\n";

static int pki_jws(int argc, char **argv) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"token-file", required_argument, NULL, 't'},
                {"payload", required_argument, NULL, 'p'},
                {"verify", required_argument, NULL, 'v'},
                {},
        };
        _cleanup_erase_ char *token = NULL;
        _cleanup_free_ char *payload = NULL, *jws = NULL;
        const char *token_file = NULL, *payload_file = NULL, *verify = NULL;
        char id[PKI_TOKEN_ID_LEN + 1], secret[PKI_TOKEN_SECRET_LEN + 1];
        size_t len = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(jws_usage, jws_body);
                        return EXIT_DONE;
                case 't':
                        token_file = optarg;
                        break;
                case 'p':
                        payload_file = optarg;
                        break;
                case 'v':
                        verify = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (!token_file || !payload_file || optind != argc) {
                log_error("Usage: %s", jws_usage);
                return EXIT_USAGE;
        }
        r = read_file(NULL, streq(token_file, "-") ? "/dev/stdin" : token_file, 4096, &token, NULL);
        if (r < 0) {
                log_error_errno(r, "Cannot read the token file '%s': %m", token_file);
                return EXIT_USAGE;
        }
        token[strcspn(token, " \t\r\n")] = 0;
        if (pki_token_parse(token, id, secret) < 0) {
                log_error("The token in '%s' is not of the form [a-z0-9]{6}.[a-z0-9]{16}.", token_file);
                return EXIT_USAGE;
        }
        r = read_file(NULL, payload_file, PKI_FILE_MAX, &payload, &len);
        if (r < 0) {
                log_error_errno(r, "Cannot read the payload '%s': %m", payload_file);
                return EXIT_USAGE;
        }
        if (verify) {
                r = pki_jws_verify_detached(payload, len, id, secret, verify);
                OPENSSL_cleanse(secret, sizeof(secret));
                if (r < 0) {
                        log_error("The signature does not match this payload and token.");
                        return EXIT_FAILED;
                }
                printf("signature ok (token id %s)\n", id);
                return EXIT_DONE;
        }
        r = pki_jws_sign_detached(payload, len, id, secret, &jws);
        OPENSSL_cleanse(secret, sizeof(secret));
        if (r < 0)
                return cli_oom();
        printf("%s\n", jws);
        return EXIT_DONE;
}

int cmd_pki(int argc, char **argv) {
        static const struct {
                const char *name;
                int (*run)(int argc, char **argv);
        } subs[] = {
                {"certs", pki_certs}, {"ca-hash", pki_ca_hash}, {"certificate-key", pki_certificate_key},
                {"token", pki_token}, {"check", pki_check},     {"jws", pki_jws},
        };

        if (argc < 2 || streq(argv[1], "-h") || streq(argv[1], "--help")) {
                cli_print_help(pki_usage, pki_body);
                return argc < 2 ? EXIT_USAGE : EXIT_DONE;
        }
        for (size_t i = 0; i < ELEMENTSOF(subs); i++)
                if (streq(argv[1], subs[i].name))
                        return subs[i].run(argc - 1, argv + 1);
        if (streq(argv[1], "encrypt-certs") || streq(argv[1], "decrypt-certs"))
                return crypt_certs(argc - 1, argv + 1, streq(argv[1], "encrypt-certs"));
        log_error("Unknown pki command '%s'. 'kube-firstboot pki --help' lists them.", argv[1]);
        return EXIT_USAGE;
}
